import type { z } from 'zod';
import { excerpt, httpGet, parseBody, type GetOptions } from './http';
import type { Component } from './options';

/** One line of the checklist; every miss carries the command or step that fixes it. */
export interface CheckLine {
  component: Component;
  check: string;
  status: 'ok' | 'miss' | 'skip';
  detail: string;
  fix?: string;
}

export const COMPOSE = 'docker compose -f compose/compose.yaml';

export const ok = (component: Component, check: string, detail: string): CheckLine => ({ component, check, status: 'ok', detail });
export const miss = (component: Component, check: string, detail: string, fix: string): CheckLine => ({ component, check, status: 'miss', detail, fix });
export const skip = (component: Component, check: string, detail: string): CheckLine => ({ component, check, status: 'skip', detail });

/** What a probe is about: the checklist line it answers, and the Compose service behind the port (with how to start it). */
export interface Subject {
  component: Component;
  check: string;
  service: string;
  profile?: string;
  /** The command that starts it, when not `up -d <service>` or the profile's. */
  start?: string;
}

/** The miss for a component that does not answer at all, with how to start it and where to look. */
export function unreachable(s: Subject, url: string, reason: string): CheckLine {
  const up = s.start ?? (s.profile ? `${COMPOSE} --profile ${s.profile} up -d` : `${COMPOSE} up -d ${s.service}`);
  return miss(
    s.component,
    s.check,
    `${url}: ${reason}`,
    `${up}; if it is running, ${COMPOSE} ps ${s.service} (healthy?) and ${COMPOSE} logs --tail=50 ${s.service}`,
  );
}

/** The miss for a port that answers, but not as the expected program does. */
export function stranger(s: Subject, url: string, r: { status: number; text: string }, what: string): CheckLine {
  const port = new URL(url).port || '80';
  return miss(
    s.component,
    s.check,
    `${url} answered ${r.status} but not like ${what}: ${excerpt(r.text, 80) || '(empty body)'}`,
    `another program may hold the port: see which (Linux/macOS: lsof -i :${port}; Windows: netstat -ano | findstr ${port}), stop it or point the doctor elsewhere; else ${COMPOSE} logs --tail=50 ${s.service}`,
  );
}

/** A probe's answer in the shape its API documents, or the miss to report (`answer` set when something answered). */
export type Probed<T> = { body: T; status: number; line?: undefined } | { line: CheckLine; answer?: { status: number; text: string } };

/**
 * GET `url` and read its JSON as `schema`: how every check starts, and misses alike when nothing
 * answers (named as `shown`, default `url`) or another program does (`need200`: any other status is one).
 */
export async function probe<T>(
  o: GetOptions,
  s: Subject,
  url: string,
  schema: z.ZodType<T>,
  what: string,
  opts: { shown?: string; need200?: boolean } = {},
): Promise<Probed<T>> {
  const r = await httpGet(url, o);
  if (r.kind === 'unreachable') return { line: unreachable(s, opts.shown ?? url, r.reason) };
  const body = opts.need200 && r.status !== 200 ? null : parseBody(r.text, schema);
  return body === null ? { line: stranger(s, url, r, what), answer: r } : { body, status: r.status };
}
