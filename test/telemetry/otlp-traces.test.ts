import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { OtlpReceiver, type ReceivedSpan } from '../../testkit/otlp-receiver';
import { createTestDatabase, REDIS_URL, sql, type TestDatabase } from '../../testkit/postgres';
import { startServerProcess, type ServerProcess } from '../../testkit/server-process';
import { eventually } from '../helpers/wait';

const SERVER = 2;
const CLIENT = 3;

/**
 * The trace once its server span has arrived. Its children end before it does, and the batch
 * processor exports spans in the order they end, so they have arrived by then too.
 */
async function traceOf(receiver: OtlpReceiver, traceId: string): Promise<ReceivedSpan[]> {
  await eventually(`the server span of ${traceId}`, () => (receiver.trace(traceId).some((s) => s.kind === SERVER) ? true : undefined));
  return receiver.trace(traceId);
}

function randomHex(bytes: number): string {
  return Array.from({ length: bytes }, () =>
    Math.floor(Math.random() * 256)
      .toString(16)
      .padStart(2, '0'),
  ).join('');
}

/** Every span's parent chain ends at the server span. */
function assertTree(spans: ReceivedSpan[], root: ReceivedSpan): void {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  for (const s of spans) {
    let cur: ReceivedSpan | undefined = s;
    let hops = 0;
    while (cur && cur !== root && hops < 10) {
      cur = byId.get(cur.parentSpanId);
      hops += 1;
    }
    assert.equal(cur, root, `span ${s.name} descends from the server span`);
  }
}

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  describe(`OpenTelemetry traces over OTLP ${protocol}`, () => {
    let database: TestDatabase;
    let jaeger: OtlpReceiver;
    let apm: OtlpReceiver;
    let server: ServerProcess;

    before(async () => {
      database = await createTestDatabase('otlp');
      jaeger = await new OtlpReceiver().start();
      apm = await new OtlpReceiver().start();
      server = await startServerProcess({
        DATABASE_URL: database.url,
        REDIS_URL,
        REDIS_KEY_PREFIX: `otlp-${protocol}-${process.pid}:`,
        OTEL_SDK_DISABLED: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        // What Compose sets for the Elastic agent (APM_AGENT=elastic); unused by OpenTelemetry.
        ELASTIC_APM_SERVER_URL: apm.url,
        SERVICE_VERSION: '9.9.9',
        DEPLOYMENT_ENVIRONMENT: 'test',
      });
    });
    after(async () => {
      await server.stop();
      await Promise.all([jaeger.stop(), apm.stop()]);
      await database.drop();
    });

    test('When GET /api/products misses the cache, then one trace holds the server span with pg and redis children', async () => {
      const traceId = randomHex(16);
      const parent = randomHex(8);
      const res = await fetch(`${server.url}/api/products?category=books`, { headers: { traceparent: `00-${traceId}-${parent}-01` } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-cache'), 'MISS');
      const spans = await traceOf(jaeger, traceId);
      const root = spans.find((s) => s.kind === SERVER);
      assert.ok(root);
      assert.equal(root.name, 'GET /api/products', 'server span named by route');
      assert.equal(root.parentSpanId, parent, 'incoming W3C traceparent continued');
      assert.equal(root.attributes['http.route'], '/api/products');
      assert.equal(root.attributes['cloudmart.cache.hit'], false);
      const pg = spans.filter((s) => s.kind === CLIENT && s.attributes['db.system.name'] === 'postgresql');
      const redis = spans.filter((s) => s.kind === CLIENT && s.attributes['db.system.name'] === 'redis');
      assert.ok(pg.length >= 1, 'a pg query span');
      assert.ok(redis.length >= 1, 'redis spans');
      assertTree(spans, root);
      assert.equal(root.resource['service.name'], 'cloudmart-backend');
      assert.equal(root.resource['service.version'], '9.9.9');
      assert.equal(root.resource['deployment.environment.name'], 'test');
      assert.equal(root.encoding, protocol === 'http/json' ? 'json' : 'protobuf');
    });

    test('When a product is read, then its query span is named by its db.query.summary, as the stable database conventions ask', async () => {
      const traceId = randomHex(16);
      const res = await fetch(`${server.url}/api/products/5`, { headers: { traceparent: `00-${traceId}-${randomHex(8)}-01` } });
      assert.equal(res.status, 200);
      const pg = (await traceOf(jaeger, traceId)).filter((s) => s.attributes['db.system.name'] === 'postgresql');
      assert.deepEqual(
        pg.map((s) => [s.name, s.attributes['db.query.summary']]),
        [['SELECT products', 'SELECT products']],
      );
      assert.equal(pg[0]?.kind, CLIENT);
      assert.match(String(pg[0]?.attributes['db.query.text']), /^SELECT .* FROM products WHERE id = \$1$/);
    });

    /** Reads a product while its table is gone, so Postgres answers 42P01 (undefined_table); returns the trace id. */
    async function failedRead(id: number): Promise<string> {
      await sql(database.url, 'ALTER TABLE products RENAME TO products_away');
      const traceId = randomHex(16);
      try {
        const res = await fetch(`${server.url}/api/products/${id}`, { headers: { traceparent: `00-${traceId}-${randomHex(8)}-01` } });
        assert.equal(res.status, 500);
      } finally {
        await sql(database.url, 'ALTER TABLE products_away RENAME TO products');
      }
      return traceId;
    }

    test('When a query fails, then its span carries the SQLSTATE as db.response.status_code and error.type', async () => {
      const traceId = await failedRead(20);
      const [query] = (await traceOf(jaeger, traceId)).filter((s) => s.attributes['db.system.name'] === 'postgresql');
      assert.ok(query);
      assert.equal(query.name, 'SELECT products');
      assert.equal(query.statusCode, 2, 'status ERROR');
      assert.equal(query.attributes['db.response.status_code'], '42P01');
      assert.equal(query.attributes['error.type'], '42P01');
    });

    test('When a query fails, then the failure is recorded once: the exception on the query span, status and codes on the server span, code and message in the log', async () => {
      const traceId = await failedRead(21);
      const spans = await traceOf(jaeger, traceId);
      const root = spans.find((s) => s.kind === SERVER);
      const query = spans.find((s) => s.attributes['db.system.name'] === 'postgresql');
      assert.ok(root && query);
      assert.equal(root.statusCode, 2, 'the server span is an error');
      assert.equal(root.attributes['error.type'], '500');
      assert.equal(root.attributes['cloudmart.error.code'], 'INTERNAL');
      assert.deepEqual(root.events, [], 'no second exception event: the query span has it');
      assert.deepEqual(query.events, ['exception']);
      const line = await eventually('the error log line', () => server.logs.find((l) => l.trace_id === traceId && l.err !== undefined));
      // The pg error's code and message only: its other fields can quote row values.
      assert.deepEqual(line.err, { type: 'DatabaseError', code: '42P01', message: 'relation "products" does not exist' });
    });

    test('When spans are exported, then their resource names the SDK and this process, and the environment by its current key only', async () => {
      const traceId = randomHex(16);
      await fetch(`${server.url}/api/products/2`, { headers: { traceparent: `00-${traceId}-${randomHex(8)}-01` } });
      const spans = await traceOf(jaeger, traceId);
      for (const { name, resource } of spans) {
        assert.equal(resource['telemetry.sdk.name'], 'opentelemetry', name);
        assert.equal(resource['telemetry.sdk.language'], 'nodejs', name);
        assert.match(String(resource['telemetry.sdk.version']), /^\d+\.\d+\.\d+/, name);
        assert.match(String(resource['service.instance.id']), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, name);
        assert.equal(resource['deployment.environment.name'], 'test', name);
        assert.ok(!('deployment.environment' in resource), `${name}: no deprecated deployment.environment`);
      }
      // One process, one instance id.
      assert.equal(new Set(spans.map((s) => s.resource['service.instance.id'])).size, 1);
    });

    test('When GET /api/products is served from the cache, then the trace is the server span and one Redis MGET', async () => {
      await fetch(`${server.url}/api/products?category=toys`);
      const traceId = randomHex(16);
      const res = await fetch(`${server.url}/api/products?category=toys`, { headers: { traceparent: `00-${traceId}-${randomHex(8)}-01` } });
      assert.equal(res.headers.get('x-cache'), 'HIT');
      const spans = await traceOf(jaeger, traceId);
      // The cache generation and the page arrive together: one round trip, one span.
      assert.deepEqual(spans.map((s) => s.name).sort(), ['GET /api/products', 'mget'], spans.map((s) => s.name).join(', '));
      assert.equal(spans.filter((s) => s.attributes['db.system.name'] === 'postgresql').length, 0);
      assert.equal(spans.filter((s) => s.scope.includes('fs') || s.scope.includes('dns') || s.scope.includes('net')).length, 0, 'no fs/dns/net noise');
      // The server span is named by route (asserted above) without the Express
      // instrumentation, whose layer spans would repeat the server span's route and duration.
      assert.equal(spans.filter((s) => s.scope.includes('instrumentation-express')).length, 0, 'no Express span');
    });

    test('When a product search is traced, then no span holds the search text: a digest in the Redis key, REDACTED in url.query; the second search hits', async () => {
      const term = `Secret${randomHex(4)}`;
      const spans: ReceivedSpan[] = [];
      for (const expected of ['MISS', 'HIT']) {
        const traceId = randomHex(16);
        const res = await fetch(`${server.url}/api/products?q=${term}`, { headers: { traceparent: `00-${traceId}-${randomHex(8)}-01` } });
        assert.equal(res.headers.get('x-cache'), expected);
        spans.push(...(await traceOf(jaeger, traceId)));
      }
      const statements = spans.filter((s) => s.attributes['db.system.name'] === 'redis').map((s) => String(s.attributes['db.query.text']));
      assert.ok(statements.length >= 3, statements.join(' | '));
      assert.ok(
        statements.every((t) => !t.toLowerCase().includes(term.toLowerCase())),
        statements.join(' | '),
      );
      assert.ok(
        statements.some((t) => /products:list:[0-9a-f]{32}\b/.test(t)),
        statements.join(' | '),
      );
      const servers = spans.filter((s) => s.kind === SERVER);
      assert.deepEqual(
        servers.map((s) => s.attributes['url.query']),
        ['q=REDACTED', 'q=REDACTED'],
      );
      assert.ok(!JSON.stringify(spans).toLowerCase().includes(term.toLowerCase()), 'the search text is in no span');
    });

    test('When a request matches no route, then its server span is named by the method alone, never the raw URL', async () => {
      const traceId = randomHex(16);
      const res = await fetch(`${server.url}/api/no-such-thing/12345`, { headers: { traceparent: `00-${traceId}-${randomHex(8)}-01` } });
      assert.equal(res.status, 404);
      const root = (await traceOf(jaeger, traceId)).find((s) => s.kind === SERVER);
      assert.ok(root);
      assert.equal(root.name, 'GET');
      assert.equal(root.attributes['http.route'], undefined);
      assert.equal(root.attributes['http.response.status_code'], 404);
    });

    test('When an order is placed, then its trace carries the order attributes and the transaction queries', async () => {
      const traceId = randomHex(16);
      const res = await fetch(`${server.url}/api/orders`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', traceparent: `00-${traceId}-${randomHex(8)}-01` },
        body: JSON.stringify({
          items: [
            { productId: 2, quantity: 1 },
            { productId: 3, quantity: 1 },
          ],
          customerEmail: 'span@example.com',
        }),
      });
      assert.equal(res.status, 201);
      const order = (await res.json()) as { id: number };
      const spans = await traceOf(jaeger, traceId);
      const root = spans.find((s) => s.kind === SERVER);
      assert.ok(root);
      assert.equal(root.name, 'POST /api/orders');
      assert.equal(root.attributes['cloudmart.order.id'], order.id);
      assert.equal(root.attributes['cloudmart.order.item_count'], 2);
      const statements = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql').map((s) => String(s.attributes['db.query.text'] ?? s.name));
      assert.ok(
        statements.some((q) => q.includes('BEGIN')),
        statements.join('\n'),
      );
      assert.ok(statements.some((q) => q.includes('FOR UPDATE')));
      assert.ok(statements.some((q) => q.includes('COMMIT')));
      assertTree(spans, root);
    });

    test('When the order body arrives in a later packet than the headers, then its queries still belong to the request trace', async () => {
      // The body's 'data'/'end' events then come from the connection's socket callbacks, outside
      // the request's async context. (Express's body reader, raw-body, also binds its callback to
      // the request's async context; test/chaos/spans.test.ts covers the response's binding.)
      const traceId = randomHex(16);
      const body = JSON.stringify({ items: [{ productId: 4, quantity: 1 }], customerEmail: 'late-body@example.com' });
      const { port } = new URL(server.url);
      const response = await new Promise<string>((resolve, reject) => {
        // Two writes: the headers, asking to continue, then the body once the server has said
        // 100 Continue, that is once it has parsed the headers and started the request without it.
        const socket = net.connect(Number(port), '127.0.0.1', () => {
          socket.write(
            `POST /api/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
              `Expect: 100-continue\r\ntraceparent: 00-${traceId}-${randomHex(8)}-01\r\nConnection: close\r\n\r\n`,
          );
        });
        let received = '';
        let sent = false;
        socket.setEncoding('utf8').on('data', (chunk: string) => {
          received += chunk;
          if (!sent && received.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
            sent = true;
            socket.write(body);
          }
        });
        socket.on('end', () => resolve(received)).on('error', reject);
      });
      assert.match(response, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201 /);
      const spans = await traceOf(jaeger, traceId);
      const root = spans.find((s) => s.kind === SERVER);
      assert.ok(root);
      assert.equal(root.name, 'POST /api/orders');
      assert.equal(typeof root.attributes['cloudmart.order.id'], 'number');
      assert.ok(
        spans.some((s) => String(s.attributes['db.query.text'] ?? '').includes('FOR UPDATE')),
        'the order transaction is in the trace',
      );
      assertTree(spans, root);
    });

    test('When a request fails with 5xx-free 4xx, then the span is not an error; unknown routes are named by method only', async () => {
      const traceId = randomHex(16);
      const res = await fetch(`${server.url}/no/such/${randomHex(4)}`, { headers: { traceparent: `00-${traceId}-${randomHex(8)}-01` } });
      assert.equal(res.status, 404);
      const [root] = (await traceOf(jaeger, traceId)).filter((s) => s.kind === SERVER);
      assert.ok(root);
      assert.equal(root.name, 'GET');
      assert.notEqual(root.statusCode, 2);
    });

    test('When /metrics and /health are requested, then they produce no spans', async () => {
      const traceId = randomHex(16);
      for (const p of ['/metrics', '/health', '/health/ready']) {
        await fetch(`${server.url}${p}`, { headers: { traceparent: `00-${traceId}-${randomHex(8)}-01` } });
      }
      // A traced request after them: once its span is in, theirs would have been exported before it.
      const after = randomHex(16);
      await fetch(`${server.url}/api/products/1`, { headers: { traceparent: `00-${after}-${randomHex(8)}-01` } });
      await traceOf(jaeger, after);
      assert.equal(jaeger.trace(traceId).length, 0);
    });

    test("When ELASTIC_APM_SERVER_URL is set, then traces still go to the OTLP endpoint alone: routing to the APM server is the collector's job", async () => {
      const traceId = randomHex(16);
      await fetch(`${server.url}/api/products/7`, { headers: { traceparent: `00-${traceId}-${randomHex(8)}-01` } });
      const direct = await traceOf(jaeger, traceId);
      assert.ok(direct.length >= 2, 'the server span and its query');
      assert.deepEqual(apm.requests, []);
    });
  });
}
