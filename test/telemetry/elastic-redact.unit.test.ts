import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { redactRequestQuery } from '../../src/telemetry/elastic-redact';

const withUrl = (raw: string) => ({
  context: {
    request: { url: { raw, pathname: raw.split('?')[0], search: raw.includes('?') ? raw.slice(raw.indexOf('?')) : '', full: `http://localhost:3000${raw}` } },
  },
});

describe("The Elastic agent's request URL, redacted as the OpenTelemetry server span's url.query", () => {
  test('When a sensitive parameter is in the query, then its value is REDACTED in raw, search and full, and its key kept', () => {
    const { url } = redactRequestQuery(withUrl('/api/products?q=my%20secret&category=home&X-Amz-Signature=abc')).context.request;
    assert.equal(url.raw, '/api/products?q=REDACTED&category=home&X-Amz-Signature=REDACTED');
    assert.equal(url.search, '?q=REDACTED&category=home&X-Amz-Signature=REDACTED');
    assert.equal(url.full, 'http://localhost:3000/api/products?q=REDACTED&category=home&X-Amz-Signature=REDACTED');
    assert.equal(url.pathname, '/api/products');
  });

  test('When no parameter is sensitive, then the URL stays as the client sent it (not re-encoded)', () => {
    const payload = withUrl('/api/products?category=home%20garden&page=2');
    assert.deepEqual(redactRequestQuery(structuredClone(payload)), payload);
  });

  test('When the names differ only in case, or a payload has no request (a span), then nothing changes', () => {
    const payload = withUrl('/api/products?Q=shown&SIG=shown');
    assert.deepEqual(redactRequestQuery(structuredClone(payload)), payload);
    const span = { id: 'span', context: { db: { statement: 'SELECT 1' } } };
    assert.deepEqual(redactRequestQuery(structuredClone(span)), span);
  });
});
