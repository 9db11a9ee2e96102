import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OtlpReceiver } from '../../testkit/otlp-receiver';
import { promtailJsonFields, promtailLabelNames, promtailStructuredMetadataNames } from '../helpers/stack';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';
import { startServerProcess, type ServerProcess } from '../../testkit/server-process';
import { TcpProxy } from '../helpers/tcp-proxy';
import { eventually } from '../helpers/wait';

describe('one request as a metric, a trace and a log line', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let receiver: OtlpReceiver;
  let server: ServerProcess;

  before(async () => {
    database = await createTestDatabase('corr');
    receiver = await new OtlpReceiver().start();
    proxy = await new TcpProxy(Number(new URL(database.url).port || 5432)).start();
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    server = await startServerProcess({
      DATABASE_URL: viaProxy.toString(),
      REDIS_URL,
      REDIS_KEY_PREFIX: `corr-${process.pid}:`,
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      DB_CONNECT_TIMEOUT_MS: '500',
    });
  });
  after(async () => {
    await server.stop();
    await receiver.stop();
    await proxy.stop();
    await database.drop();
  });

  test('When a product is requested, then the log line, the exemplar and the exported span share one trace id', async () => {
    const res = await fetch(`${server.url}/api/products/11`, { headers: { 'X-Request-Id': 'corr-req-1', Authorization: 'Bearer sup3r-s3cret' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'corr-req-1');

    const line = await eventually('the request log line', () => server.logs.find((l) => l.req_id === 'corr-req-1'));
    assert.equal(line.level, 'info', 'level as a name');
    assert.equal(line.route, '/api/products/:id');
    assert.equal(line.method, 'GET');
    assert.equal(line.status_code, 200);
    assert.equal(typeof line.duration_ms, 'number');
    assert.match(String(line.trace_id), /^[0-9a-f]{32}$/);
    assert.match(String(line.span_id), /^[0-9a-f]{16}$/);
    assert.equal(line.trace_flags, '01', 'sampled, as two lowercase hex digits');
    assert.doesNotMatch(JSON.stringify(server.logs), /sup3r-s3cret/, 'credentials never logged');
    // Promtail's json stage reads these keys: each must exist in what the service really writes.
    for (const field of promtailJsonFields()) assert.ok(field in line, `promtail expects "${field}" in the request log line`);
    assert.ok(promtailLabelNames().includes('level'));
    assert.deepEqual(promtailStructuredMetadataNames().sort(), ['span_id', 'trace_flags', 'trace_id']);

    const span = await eventually('the server span', () => receiver.spans.find((s) => s.traceId === line.trace_id && s.kind === 2));
    assert.equal(span.name, 'GET /api/products/:id');
    assert.equal(span.spanId, line.span_id, 'the log line names the server span');

    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { Accept: 'application/openmetrics-text; version=1.0.0' } })).text();
    const exemplars = [
      ...metrics.matchAll(/^http_request_duration_seconds_bucket\{[^}]*route="\/api\/products\/:id"[^}]*\} \d+ # \{trace_id="([0-9a-f]{32})"\}/gm),
    ].map((m) => m[1]);
    assert.ok(exemplars.includes(String(line.trace_id)), `exemplar trace ids: ${exemplars.join(', ')}`);
  });

  test('When the caller did not sample the trace, then the log line says so with trace_flags "00"', async () => {
    const traceId = 'e5'.repeat(16);
    await fetch(`${server.url}/api/products/12`, { headers: { 'X-Request-Id': 'corr-req-unsampled', traceparent: `00-${traceId}-${'f6'.repeat(8)}-00` } });
    const line = await eventually('the request log line', () => server.logs.find((l) => l.req_id === 'corr-req-unsampled'));
    assert.equal(line.trace_id, traceId, 'the trace is continued, not recorded');
    assert.equal(line.trace_flags, '00');
  });

  test('When Postgres is gone, then the 503 is an error on the span with the exception recorded, and an error log line', async () => {
    proxy.set('reset');
    const res = await fetch(`${server.url}/api/products?q=outage`, { headers: { 'X-Request-Id': 'corr-req-503' } });
    assert.equal(res.status, 503);
    const line = await eventually('the 503 log line', () => server.logs.find((l) => l.req_id === 'corr-req-503' && l.status_code === 503));
    assert.equal(line.level, 'error');
    const errorLine = server.logs.find((l) => l.req_id === 'corr-req-503' && l.err !== undefined);
    assert.ok(errorLine, 'the cause is logged with the request id');
    assert.equal(errorLine.trace_id, line.trace_id, 'the error log line is in the same trace');
    const span = await eventually('the server span', () => receiver.spans.find((s) => s.traceId === line.trace_id && s.kind === 2));
    assert.equal(span.statusCode, 2, 'span status ERROR');
    assert.ok(span.events.includes('exception'));
    proxy.set('pass');
  });
});
