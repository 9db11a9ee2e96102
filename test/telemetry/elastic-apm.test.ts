import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApmIntakeReceiver } from '../helpers/apm-intake-receiver';
import { OtlpReceiver } from '../../testkit/otlp-receiver';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';
import { startServerProcess, type ServerProcess } from '../../testkit/server-process';
import { eventually } from '../helpers/wait';

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

    const list = await eventually('the list transaction', () => intake.of('transaction').find((t) => t.name === 'GET /api/products'), { timeoutMs: 15_000 });
    const post = await eventually('the order transaction', () => intake.of('transaction').find((t) => t.name === 'POST /api/orders'), { timeoutMs: 15_000 });
    await sleep(1500);
    const spansOf = (tx: Record<string, unknown>) => intake.of('span').filter((s) => s.transaction_id === tx.id);
    const listSpans = spansOf(list);
    assert.ok(
      listSpans.some((s) => s.subtype === 'postgresql'),
      JSON.stringify(listSpans.map((s) => s.name)),
    );
    assert.ok(listSpans.some((s) => s.subtype === 'redis'));
    assert.ok(spansOf(post).filter((s) => s.subtype === 'postgresql').length >= 3, 'the order transaction queries');
    assert.equal((post.context as { tags?: Record<string, unknown> }).tags?.['cloudmart_order_id'], orderId, 'business label');

    const metadata = intake.of('metadata')[0] as { service?: { name?: string; version?: string } } | undefined;
    assert.equal(metadata?.service?.name, 'cloudmart-backend');
    assert.equal(metadata?.service?.version, '7.7.7');
  });

  test('When a request is traced by Elastic, then the log line carries its trace id', async () => {
    await fetch(`${server.url}/api/products/5`, { headers: { 'X-Request-Id': 'elastic-req-1' } });
    const line = await eventually('the request log line', () => server.logs.find((l) => l.req_id === 'elastic-req-1'));
    const tx = await eventually('the transaction of that trace', () => intake.of('transaction').find((t) => t.trace_id === line.trace_id), {
      timeoutMs: 15_000,
    });
    assert.equal(tx.name, 'GET /api/products/:id');
  });

  test('When Elastic traces, then OpenTelemetry sends nothing: never two tracers in one process', async () => {
    await sleep(500);
    assert.equal(otlp.requests.length, 0);
    assert.ok(server.logs.some((l) => l.tracer === 'elastic-apm-node'));
  });
});
