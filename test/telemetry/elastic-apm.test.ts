import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ApmIntakeReceiver } from '../helpers/apm-intake-receiver';
import { OtlpReceiver } from '../../testkit/otlp-receiver';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';
import { startServerProcess, type ServerProcess } from '../../testkit/server-process';
import { eventually } from '../helpers/wait';

const CHAOS_TOKEN = 'elastic-chaos-token-0123456789';

describe('APM_AGENT=elastic: the native Elastic APM agent instead of OpenTelemetry', () => {
  let database: TestDatabase;
  let intake: ApmIntakeReceiver;
  let otlp: OtlpReceiver;
  let server: ServerProcess;

  before(async () => {
    database = await createTestDatabase('elastic');
    intake = await new ApmIntakeReceiver().start();
    otlp = await new OtlpReceiver().start();
    server = await startServerProcess({
      APM_AGENT: 'elastic',
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: `elastic-${process.pid}:`,
      ELASTIC_APM_SERVER_URL: intake.url,
      ELASTIC_APM_API_REQUEST_TIME: '1s',
      ELASTIC_APM_METRICS_INTERVAL: '0s',
      SERVICE_VERSION: '7.7.7',
      CHAOS_ENABLED: 'true',
      CHAOS_TOKEN,
      // Set on purpose: in Elastic mode the OpenTelemetry SDK must not start and send here.
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    });
  });
  after(async () => {
    await server.stop();
    await Promise.all([intake.stop(), otlp.stop()]);
    await database.drop();
  });

  test('When products are listed and an order is placed, then transactions with pg and redis spans reach the intake', async () => {
    assert.equal((await fetch(`${server.url}/api/products?category=home`)).status, 200);
    const order = await fetch(`${server.url}/api/orders`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ items: [{ productId: 3, quantity: 1 }], customerEmail: 'elastic@example.com' }),
    });
    assert.equal(order.status, 201);
    const orderId = ((await order.json()) as { id: number }).id;

    // Named by route, with the express instrumentation off (ELASTIC_LEAN): the agent reads req.route.
    const list = await eventually('the list transaction', () => intake.of('transaction').find((t) => t.name === 'GET /api/products'), { timeoutMs: 15_000 });
    const post = await eventually('the order transaction', () => intake.of('transaction').find((t) => t.name === 'POST /api/orders'), { timeoutMs: 15_000 });
    // A span is sent when it ends, so it may arrive in a later intake request than its transaction.
    const spansOf = (tx: Record<string, unknown>) => intake.of('span').filter((s) => s.transaction_id === tx.id);
    await eventually("the list transaction's postgresql and redis spans", () => {
      const subtypes = spansOf(list).map((s) => s.subtype);
      return subtypes.includes('postgresql') && subtypes.includes('redis') ? true : undefined;
    });
    await eventually("the order transaction's queries", () => (spansOf(post).filter((s) => s.subtype === 'postgresql').length >= 3 ? true : undefined));
    assert.equal((post.context as { tags?: Record<string, unknown> }).tags?.['cloudmart_order_id'], orderId, 'business label');

    const metadata = intake.of('metadata')[0] as { service?: { name?: string; version?: string } } | undefined;
    assert.equal(metadata?.service?.name, 'cloudmart-backend');
    assert.equal(metadata?.service?.version, '7.7.7');
  });

  test('When a request is traced by Elastic, then the log line carries its trace id', async () => {
    await fetch(`${server.url}/api/products/5`, { headers: { 'X-Request-Id': 'elastic-req-1' } });
    const line = await eventually('the request log line', () => server.logs.find((l) => l.req_id === 'elastic-req-1'));
    assert.equal(line.trace_flags, '01', 'sampled, as two lowercase hex digits');
    const tx = await eventually('the transaction of that trace', () => intake.of('transaction').find((t) => t.trace_id === line.trace_id), {
      timeoutMs: 15_000,
    });
    assert.equal(tx.name, 'GET /api/products/:id');
  });

  test('When a request fails with a 500, then one error is captured on its transaction; a 404 is no error', async () => {
    const chaos = (method: string, body?: unknown) =>
      fetch(`${server.url}/api/admin/chaos`, {
        method,
        headers: { Authorization: `Bearer ${CHAOS_TOKEN}`, 'Content-Type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    assert.equal((await fetch(`${server.url}/api/products/999999`, { headers: { 'X-Request-Id': 'elastic-404' } })).status, 404);
    assert.equal((await chaos('PUT', { errorRate: 1, routes: ['/api/products/:id'] })).status, 200);
    try {
      assert.equal((await fetch(`${server.url}/api/products/4`, { headers: { 'X-Request-Id': 'elastic-500' } })).status, 500);
    } finally {
      await chaos('DELETE');
    }
    const traceOf = (reqId: string) =>
      eventually(`the log line of ${reqId}`, () => server.logs.find((l) => l.req_id === reqId && l.trace_id)).then((l) => l.trace_id);
    const failed = await traceOf('elastic-500');
    const error = await eventually('the error of the failed request', () => intake.of('error').find((e) => e.trace_id === failed), { timeoutMs: 15_000 });
    const tx = await eventually('the failed transaction', () => intake.of('transaction').find((t) => t.trace_id === failed), { timeoutMs: 15_000 });
    assert.equal(tx.name, 'GET /api/products/:id');
    assert.equal(error.transaction_id, tx.id);
    assert.equal(intake.of('error').filter((e) => e.trace_id === failed).length, 1, 'captured once, not again by an Express hook');
    // The 404 was answered before the 500 was even sent, so its error would have been captured first.
    const notFound = await traceOf('elastic-404');
    assert.equal(intake.of('error').filter((e) => e.trace_id === notFound).length, 0);
  });

  test('When a product search is traced by Elastic, then no event holds the search text: REDACTED in the URL, as in url.query of the OpenTelemetry server span', async () => {
    const term = `Secret${randomBytes(4).toString('hex')}`;
    assert.equal((await fetch(`${server.url}/api/products?q=${term}&category=home`, { headers: { 'X-Request-Id': 'elastic-search' } })).status, 200);
    const traceId = await eventually('the search log line', () => server.logs.find((l) => l.req_id === 'elastic-search' && l.trace_id)).then((l) => l.trace_id);
    const tx = await eventually('the search transaction', () => intake.of('transaction').find((t) => t.trace_id === traceId), { timeoutMs: 15_000 });
    const url = (tx.context as { request?: { url?: Record<string, unknown> } }).request?.url;
    assert.equal(url?.search, '?q=REDACTED&category=home');
    assert.equal(url?.raw, '/api/products?q=REDACTED&category=home');
    assert.match(String(url?.full), /^http:\/\/[^/]+\/api\/products\?q=REDACTED&category=home$/);
    // Its spans may come in a later intake request than the transaction.
    await eventually("the search's redis and postgresql spans", () => {
      const subtypes = intake
        .of('span')
        .filter((x) => x.transaction_id === tx.id)
        .map((x) => x.subtype);
      return subtypes.includes('redis') && subtypes.includes('postgresql') ? true : undefined;
    });
    assert.ok(!JSON.stringify(intake.events).toLowerCase().includes(term.toLowerCase()), 'the search text is in no event');
  });

  test('When Elastic traces, then OpenTelemetry sends nothing: never two tracers in one process', async () => {
    assert.ok(server.logs.some((l) => l.tracer === 'elastic-apm-node'));
    assert.ok(!server.logs.some((l) => l.tracer === 'opentelemetry'));
    // A started SDK flushes its spans on shutdown: after a clean exit, none arrived.
    await fetch(`${server.url}/api/products?category=books`);
    assert.equal(await server.stop(), 0);
    assert.equal(otlp.requests.length, 0);
  });
});
