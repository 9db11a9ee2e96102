import { REDACTED_QUERY_PARAMS, redactParams } from './redact-url';

/** The URL fields the agent writes for an incoming request (context.request.url). */
interface RequestUrl {
  raw?: string;
  search?: string;
  full?: string;
}

/** The part of an event that holds the request's URL: transactions and errors have it, spans not. */
type WithRequest = { context?: { request?: { url?: RequestUrl } } };

const redacted: ReadonlySet<string> = new Set(REDACTED_QUERY_PARAMS);

/** `url` with the query after its first "?" redacted, or as it is when none of its parameters is sensitive. */
function redactAfterQuestionMark(url: string): string {
  const at = url.indexOf('?');
  if (at === -1) return url;
  const params = new URLSearchParams(url.slice(at + 1));
  return redactParams(params, redacted) ? `${url.slice(0, at + 1)}${params.toString()}` : url;
}

/**
 * A filter for apm.addFilter(): the agent reports a request's query string as it came (its
 * sanitizeFieldNames covers headers, cookies and form bodies only), so the parameters the
 * OpenTelemetry server span records as REDACTED in url.query are redacted here too, in the
 * transaction's and the error's URL.
 */
export function redactRequestQuery<T extends object>(payload: T): T {
  // The agent types an event as any map; this is the part its intake spec gives a request.
  const url = (payload as WithRequest).context?.request?.url;
  for (const field of ['raw', 'search', 'full'] as const) {
    const value = url?.[field];
    if (url && value !== undefined) url[field] = redactAfterQuestionMark(value);
  }
  return payload;
}
