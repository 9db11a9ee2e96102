import type { z } from 'zod';

/** What one GET brought back: an answer (any status), or why there was none, in one line. */
export type HttpResult = { kind: 'answer'; status: number; text: string } | { kind: 'unreachable'; reason: string };

export interface GetOptions {
  timeoutMs: number;
  headers?: Record<string, string>;
}

/** The error codes node's fetch (undici) reports, as a student would want them said. */
function reasonOf(err: unknown, url: string, timeoutMs: number): string {
  const { host } = new URL(url);
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer from ${host} within ${timeoutMs} ms`;
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return `nothing listens on ${host} (connection refused)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host name of ${host} does not resolve`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `${host} closed the connection without answering (not HTTP, or still starting)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${host} is not reachable (no route)`;
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `no connection to ${host} within ${timeoutMs} ms`;
    default:
      return `${host}: ${cause?.message ?? (err instanceof Error ? err.message : String(err))}`;
  }
}

/** GET with a bounded wait; never throws. */
export async function httpGet(url: string, opts: GetOptions): Promise<HttpResult> {
  // A referenced timer, not AbortSignal.timeout(): when a peer hangs up mid-request, undici can
  // leave the fetch pending with nothing else keeping the process alive, and it would exit 0 silently.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), opts.timeoutMs);
  try {
    const res = await fetch(url, { headers: { accept: 'application/json', ...opts.headers }, signal: controller.signal, redirect: 'manual' });
    // The body is read under the same deadline: a server that sends headers and then stalls is unreachable too.
    const text = await res.text();
    return { kind: 'answer', status: res.status, text };
  } catch (err) {
    return { kind: 'unreachable', reason: reasonOf(err, url, opts.timeoutMs) };
  } finally {
    clearTimeout(timer);
  }
}

/** The body parsed and checked against the shape the API documents, or null. */
export function parseBody<T>(text: string, schema: z.ZodType<T>): T | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

/** A short, single-line excerpt of a body for a message. */
export function excerpt(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
