import type { z } from 'zod';

/** What one GET brought back: an answer (any status), or why there was none, in one line. */
export type HttpResult = { kind: 'answer'; status: number; text: string } | { kind: 'unreachable'; reason: string };

export type GetOptions = { timeoutMs: number; headers?: Record<string, string> };

/** The error codes node's fetch (undici) reports, as a student would want them said. */
const REASONS: [codes: string[], say: (host: string, timeoutMs: number) => string][] = [
  [['ECONNREFUSED'], (host) => `nothing listens on ${host} (connection refused)`],
  [['ENOTFOUND', 'EAI_AGAIN'], (host) => `host name of ${host} does not resolve`],
  [['ECONNRESET', 'UND_ERR_SOCKET'], (host) => `${host} closed the connection without answering (not HTTP, or still starting)`],
  [['EHOSTUNREACH', 'ENETUNREACH'], (host) => `${host} is not reachable (no route)`],
  [['UND_ERR_CONNECT_TIMEOUT'], (host, ms) => `no connection to ${host} within ${ms} ms`],
];

function reasonOf(err: unknown, url: string, timeoutMs: number): string {
  const { host } = new URL(url);
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer from ${host} within ${timeoutMs} ms`;
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  const said = REASONS.find(([codes]) => codes.includes(cause?.code ?? ''))?.[1];
  return said ? said(host, timeoutMs) : `${host}: ${cause?.message ?? (err instanceof Error ? err.message : String(err))}`;
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
    return { kind: 'answer', status: res.status, text: await res.text() };
  } catch (err) {
    return { kind: 'unreachable', reason: reasonOf(err, url, opts.timeoutMs) };
  } finally {
    clearTimeout(timer);
  }
}

/** The body parsed and checked against the shape the API documents, or null. */
export function parseBody<T>(text: string, schema: z.ZodType<T>): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** A short, single-line excerpt of a body for a message. */
export function excerpt(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
