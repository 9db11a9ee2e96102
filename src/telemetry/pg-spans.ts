import { SpanStatusCode } from '@opentelemetry/api';
import type { InstrumentationConfigMap } from '@opentelemetry/auto-instrumentations-node';
import type { Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import {
  ATTR_DB_QUERY_SUMMARY,
  ATTR_DB_RESPONSE_STATUS_CODE,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_EXCEPTION_MESSAGE,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
  ERROR_TYPE_VALUE_OTHER,
} from '@opentelemetry/semantic-conventions';

type PgRequestHook = NonNullable<NonNullable<InstrumentationConfigMap['@opentelemetry/instrumentation-pg']>['requestHook']>;

/** Statements that start an operation in a query summary. */
const OPERATIONS = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'CALL', 'BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'TRUNCATE']);
/** Keywords after which the next identifier is the table an operation reads or writes. */
const TARGET_BEFORE = new Set(['FROM', 'JOIN', 'INTO', 'UPDATE']);
/** Words that follow FROM or UPDATE without being a table (`FROM ONLY t`, `ON CONFLICT DO UPDATE SET`). */
const NOT_A_TABLE = new Set(['SET', 'ONLY', 'LATERAL', 'SELECT']);

/**
 * Words, quoted identifiers and single punctuation of a SQL text, with string literals,
 * comments and $n parameters dropped: none of them belongs in a summary.
 */
const TOKENS = /'(?:[^']|'')*'|--[^\n]*|\/\*[\s\S]*?\*\/|\$\d+|("(?:[^"]|"")+"|[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)*)|([(),;])/g;

/**
 * The query's `db.query.summary`, as the database semantic conventions generate it:
 * its operations and their targets (tables) in the order they appear, e.g.
 * `SELECT products`, `INSERT orders`, `UPDATE products SELECT`, at most 255 characters.
 * Undefined when the text holds no operation (DDL, `SET`), so the span keeps a generic name.
 */
export function querySummary(text: string): string | undefined {
  const words: string[] = [];
  for (const [, word, punctuation] of text.matchAll(TOKENS)) {
    const token = word ?? punctuation;
    if (token !== undefined) words.push(token);
  }
  const parts: string[] = [];
  for (const [i, word] of words.entries()) {
    const keyword = word.toUpperCase();
    const previous = words[i - 1]?.toUpperCase();
    // `ON CONFLICT … DO UPDATE` is part of the INSERT, not an operation of its own.
    if (OPERATIONS.has(keyword) && previous !== 'DO') parts.push(keyword);
    if (!TARGET_BEFORE.has(keyword) || previous === 'DO') continue;
    const target = words[i + 1];
    // A table, not a subquery, a keyword, or (after FROM and JOIN) a set-returning function
    // such as unnest(…); after INTO, a parenthesis opens the table's column list.
    const isFunction = (keyword === 'FROM' || keyword === 'JOIN') && words[i + 2] === '(';
    if (target && /^["A-Za-z_]/.test(target) && !NOT_A_TABLE.has(target.toUpperCase()) && !isFunction) parts.push(target);
  }
  let summary = '';
  for (const part of parts) {
    // Truncated at 255 characters between parts, never inside one.
    if (summary.length + part.length + 1 > 255) break;
    summary = summary ? `${summary} ${part}` : part;
  }
  return summary || undefined;
}

/**
 * The pg instrumentation's requestHook: names the query span as the stable database
 * conventions ask, `{db.query.summary}` (`SELECT products`), or `postgresql`
 * (`{db.system.name}`) when the text has no operation to summarise, instead of the
 * instrumentation's own `pg.query:SELECT <database>`.
 */
export const pgRequestHook: PgRequestHook = (span, { query }) => {
  const summary = querySummary(query.text);
  if (summary) span.setAttribute(ATTR_DB_QUERY_SUMMARY, summary);
  span.updateName(summary ?? DB_SYSTEM_NAME_VALUE_POSTGRESQL);
};

/** SQLSTATE: five digits or upper-case letters (`42P01`, `23505`). */
const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * Gives a failed query span the attributes the PostgreSQL conventions require of it:
 * `db.response.status_code`, the SQLSTATE the server answered, and `error.type`, the same
 * SQLSTATE, or the driver's code (`ECONNRESET`) when the server never answered, else `_OTHER`.
 *
 * The pg instrumentation (0.77, as 0.78) puts `error.type` on its duration metric only and
 * has no hook for a failed query: its responseHook runs on success only, and it ends the
 * span before the error reaches the caller. What it leaves on the span is an exception
 * event whose message carries the code, "PostgreSQL error of type 'error' occurred (code:
 * 42P01)", so this processor reads the code there while the span is ending and still writable.
 */
export class PgErrorAttributes implements SpanProcessor {
  onStart(): void {}

  onEnding(span: Span): void {
    if (span.attributes[ATTR_DB_SYSTEM_NAME] !== DB_SYSTEM_NAME_VALUE_POSTGRESQL) return;
    if (span.status.code !== SpanStatusCode.ERROR || span.attributes[ATTR_ERROR_TYPE] !== undefined) return;
    const message = span.events.find((e) => e.name === 'exception')?.attributes?.[ATTR_EXCEPTION_MESSAGE];
    const code = typeof message === 'string' ? /\(code: ([^)\s]+)\)$/.exec(message)?.[1] : undefined;
    if (code !== undefined && SQLSTATE.test(code)) span.setAttribute(ATTR_DB_RESPONSE_STATUS_CODE, code);
    span.setAttribute(ATTR_ERROR_TYPE, code !== undefined && code !== 'UNKNOWN' ? code : ERROR_TYPE_VALUE_OTHER);
  }

  onEnd(): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
