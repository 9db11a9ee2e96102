/**
 * The trace side of fault injection: the built service with OpenTelemetry on, exporting
 * to a loopback OTLP receiver. The server span of an affected request says which fault
 * was injected, so a student can find the injected failures in Jaeger.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { eventually } from '../helpers/wait';
import { OtlpReceiver, type ReceivedSpan } from '../../testkit/otlp-receiver';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';
import { startServerProcess, type ServerProcess } from '../../testkit/server-process';
import { TOKEN } from './chaos-app';

const SERVER_KIND = 2;
const ERROR_STATUS = 2;

describe('spans of requests a fault was injected into', () => {
  let database: TestDatabase;
  let receiver: OtlpReceiver;
  let server: ServerProcess;

  const chaos = (method: 'PUT' | 'DELETE', body?: object) =>
    fetch(`${server.url}/api/admin/chaos`, {
      method,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    }).then((r) => assert.equal(r.status, 200));

  /** Sends one traced request and returns its status and its server span. */
  async function traced(path: string): Promise<{ status: number; span: ReceivedSpan }> {
    const traceId = randomBytes(16).toString('hex');
    const res = await fetch(`${server.url}${path}`, { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } });
    await res.arrayBuffer();
    const span = await eventually(`the server span of ${path}`, () => receiver.trace(traceId).find((s) => s.kind === SERVER_KIND));
    return { status: res.status, span };
  }

  before(async () => {
    database = await createTestDatabase('chaosspans');
    receiver = await new OtlpReceiver().start();
    server = await startServerProcess({
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: `cloudmart-test:${randomBytes(4).toString('hex')}:`,
      CHAOS_ENABLED: 'true',
      CHAOS_TOKEN: TOKEN,
      DORA_RECORD_DEPLOYMENT: 'false',
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
  });
  afterEach(() => chaos('DELETE'));
  after(async () => {
    await server?.stop();
    await receiver?.stop();
    await database?.drop();
  });

  test('When error and latency are injected, then the server span names both and is marked as an error', async () => {
    await chaos('PUT', { errorRate: 1, latencyMs: 20, routes: ['/api/products/:id'] });
    const { status, span } = await traced('/api/products/3');
    assert.equal(status, 500);
    assert.equal(span.attributes['cloudmart.chaos.injected'], 'latency,error');
    assert.equal(span.statusCode, ERROR_STATUS);
    assert.equal(span.name, 'GET /api/products/:id', 'named by its route although the route never ran');
    assert.equal(span.attributes['http.route'], '/api/products/:id');
    // The exception's type is its class; the code the response carries has its own attribute.
    assert.equal(span.attributes['cloudmart.error.code'], 'CHAOS_INJECTED');
    assert.equal(span.attributes['error.type'], '500');
    assert.deepEqual(
      span.eventDetails.map((e) => [e.name, e.attributes['exception.type']]),
      [['exception', 'AppError']],
    );
    const clean = await traced('/api/orders');
    assert.equal(clean.status, 200);
    assert.equal(clean.span.attributes['cloudmart.chaos.injected'], undefined);
  });

  test('When the database or the cache is faulted, then the span of a request that hit the fault says which', async () => {
    await chaos('PUT', { dbErrorRate: 1 });
    const db = await traced('/api/products?q=spans-db');
    assert.equal(db.status, 503);
    assert.equal(db.span.attributes['cloudmart.chaos.injected'], 'db_error');
    await chaos('PUT', { cacheDown: true });
    const cache = await traced('/api/products?q=spans-cache');
    assert.equal(cache.status, 200);
    assert.equal(cache.span.attributes['cloudmart.chaos.injected'], 'cache_down');
  });

  test('When the client hangs up while its request waits on a slow database, then the server span still names the route', async () => {
    // The response's 'close' then comes from the connection's socket, outside the request's
    // async context: only the response's binding to that context lets the http
    // instrumentation find the route there.
    await chaos('PUT', { dbSlowMs: 2000 });
    const traceId = randomBytes(16).toString('hex');
    const aborted = await fetch(`${server.url}/api/products/41`, {
      headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      signal: AbortSignal.timeout(300),
    }).then(
      () => false,
      (err: unknown) => err instanceof Error && err.name === 'TimeoutError',
    );
    assert.ok(aborted, 'the client gave up first');
    const span = await eventually('the server span to end when the client hung up', () => receiver.trace(traceId).find((s) => s.kind === SERVER_KIND));
    assert.equal(span.name, 'GET /api/products/:id');
    assert.equal(span.attributes['http.route'], '/api/products/:id');
  });
});
