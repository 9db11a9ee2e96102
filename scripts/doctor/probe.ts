import type { z } from 'zod';
import { excerpt, httpGet, parseBody, type GetOptions, type HttpResult } from './http';
import type { Component } from './options';

export const COMPOSE = 'docker compose -f compose/compose.yaml';

/** What a check is about: its checklist line, and the Compose service behind the port (with how to start it). */
export interface Subject {
  component: Component;
  check: string;
  service: string;
  profile?: string;
  /** The command that starts it, when not `up -d <service>` or the profile's. */
  start?: string;
}

/** One line of the checklist; every miss carries the command or step that fixes it. */
export type CheckLine = Line & { status: 'ok' | 'miss' | 'skip'; detail: string; fix?: string };
type Line = Pick<Subject, 'component' | 'check'>;

export const ok = ({ component, check }: Line, detail: string): CheckLine => ({ component, check, status: 'ok', detail });
export const miss = ({ component, check }: Line, detail: string, fix: string): CheckLine => ({ component, check, status: 'miss', detail, fix });
export const skip = ({ component, check }: Line, detail: string): CheckLine => ({ component, check, status: 'skip', detail });

/** The miss for a component that does not answer at all, with how to start it and where to look. */
export function unreachable(s: Subject, url: string, reason: string): CheckLine {
  const up = s.start ?? (s.profile ? `${COMPOSE} --profile ${s.profile} up -d` : `${COMPOSE} up -d ${s.service}`);
  return miss(s, `${url}: ${reason}`, `${up}; if it is running, ${COMPOSE} ps ${s.service} (healthy?) and ${COMPOSE} logs --tail=50 ${s.service}`);
}

/** The miss for a port that answers, but not as the expected program does. */
export function stranger(s: Subject, url: string, r: { status: number; text: string }, what: string): CheckLine {
  const port = new URL(url).port || '80';
  const detail = `${url} answered ${r.status} but not like ${what}: ${excerpt(r.text, 80) || '(empty body)'}`;
  const see = `see which (Linux/macOS: lsof -i :${port}; Windows: netstat -ano | findstr ${port})`;
  return miss(s, detail, `another program may hold the port: ${see}, stop it or point the doctor elsewhere; else ${COMPOSE} logs --tail=50 ${s.service}`);
}

/** A probe's answer in the shape its API documents, or the miss to report (`answer` set when something answered). */
export type Probed<T> = { body: T; status: number; line?: undefined; answer?: undefined } | { line: CheckLine; answer?: { status: number; text: string } };

type ProbeOpts = { shown?: string; need200?: boolean };

/**
 * An answer read as `schema`, or the miss to report: alike for every check when nothing answers
 * (named as `shown`, default `url`) or another program does (`need200`: any other status is one).
 */
export function read<T>(r: HttpResult, s: Subject, url: string, schema: z.ZodType<T>, what: string, opts: ProbeOpts = {}): Probed<T> {
  if (r.kind === 'unreachable') return { line: unreachable(s, opts.shown ?? url, r.reason) };
  const body = opts.need200 && r.status !== 200 ? null : parseBody(r.text, schema);
  return body === null ? { line: stranger(s, url, r, what), answer: r } : { body, status: r.status };
}

/** GET `url` and read it: how most checks start. */
export const probe = async <T>(o: GetOptions, s: Subject, url: string, schema: z.ZodType<T>, what: string, opts: ProbeOpts = {}): Promise<Probed<T>> =>
  read(await httpGet(url, o), s, url, schema, what, opts);

/** A first probe's miss, and the checks that need an answer from it shown as not checked when nothing answered. */
export const notAnswered = (p: { line: CheckLine; answer?: unknown }, why: string, ...after: Line[]): CheckLine[] =>
  p.answer ? [p.line] : [p.line, ...after.map((s) => skip(s, why))];
