/** A connection URL fit for a log line: the password masked. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/**
 * A query string (no leading "?") with the values of sensitive parameters replaced by
 * REDACTED and their keys kept, as the semantic conventions ask of url.query and as
 * instrumentation-http does it.
 */
export function redactQuery(query: string, redacted: ReadonlySet<string>): string {
  const params = new URLSearchParams(query);
  redactParams(params, redacted);
  return params.toString();
}

/** Replaces the value of each sensitive parameter present by REDACTED; whether there was one. */
export function redactParams(params: URLSearchParams, redacted: ReadonlySet<string>): boolean {
  let found = false;
  for (const name of redacted) {
    if (!params.has(name)) continue;
    params.set(name, 'REDACTED');
    found = true;
  }
  return found;
}

/**
 * Query parameters whose values both tracers record as REDACTED (url.query of the
 * OpenTelemetry server span, the URL of an Elastic transaction): the http instrumentation's
 * own list (credentials in signed URLs), which an explicit list replaces rather than
 * extends, plus `q`, the product search, which is what users type.
 */
export const REDACTED_QUERY_PARAMS = [
  'sig',
  'Signature',
  'AWSAccessKeyId',
  'X-Goog-Signature',
  'X-Amz-Signature',
  'X-Amz-Credential',
  'X-Amz-Security-Token',
  'q',
];
