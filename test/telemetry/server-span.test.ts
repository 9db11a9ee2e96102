/**
 * src/tuning/server-span.ts against the http instrumentation it replaces: two builds of the
 * same service, CLOUDMART_TUNING on and off, get the same requests, and every trace must be
 * the same but for ids, timings, ports, order ids and the instrumentation scope: the server span's
 * name, kind, parent, status and attributes, and its children and their parents.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../helpers/wait';
import { OtlpReceiver, type ReceivedSpan } from '../../testkit/otlp-receiver';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';
import { startServerProcess, type ServerProcess } from '../../testkit/server-process';
import { TOKEN } from '../chaos/chaos-app';

const SERVER = 2;

interface Traced {
  receiver: OtlpReceiver;
  server: ServerProcess;
}

interface Call {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: object;
}

/** One request with a fresh traceparent, sent with node:http so any method, path and header goes through as given. */
function send(server: ServerProcess, call: Call, traceId: string, parentId: string): Promise<number> {
  const body = call.body ? JSON.stringify(call.body) : undefined;
  return new Promise((resolve, reject) => {
    // The path as an option, not in a URL string, which would resolve "." and encode "{" before sending.
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        path: call.path,
        method: call.method ?? 'GET',
        headers: {
          traceparent: `00-${traceId}-${parentId}-01`,
          'user-agent': 'server-span-test/1',
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...call.headers,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The trace with ids, times and ports taken out: what must not differ between the two builds. */
function shape(spans: ReceivedSpan[], parentId: string): object {
  const root = spans.find((s) => s.kind === SERVER);
  assert.ok(root, 'a server span');
  const { 'server.port': serverPort, 'network.peer.port': peerPort, ...attributes } = root.attributes;
  assert.equal(typeof serverPort, 'number', 'server.port');
  assert.equal(typeof peerPort, 'number', 'network.peer.port');
  // Both builds write to one database: the order ids differ by design.
  if ('cloudmart.order.id' in attributes) attributes['cloudmart.order.id'] = typeof attributes['cloudmart.order.id'];
  const children = spans
    .filter((s) => s !== root)
    .map((s) => ({ name: s.name, kind: s.kind, underServerSpan: s.parentSpanId === root.spanId }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    name: root.name,
    continuesCaller: root.parentSpanId === parentId,
    status: root.statusCode,
    events: root.events,
    attributes: Object.fromEntries(Object.entries(attributes).sort(([a], [b]) => a.localeCompare(b))),
    children,
  };
}

const CALLS: Call[] = [
  { path: '/api/products?q=secret&category=books&sig=abc' },
  { path: '/api/products/1' },
  { path: '/api/products/999999' },
  // url.path as a URL parse gives it (dot segments resolved, "{" percent-encoded); url.query all after the first "?".
  { path: '/api/./products/1' },
  { path: '/api/products/{1}' },
  { path: '//api/products' },
  { path: '/api/products?category=books?page=2&token=t' },
  { path: '/api/no-such-thing/12345' },
  { method: 'POST', path: '/api/orders', body: { items: [{ productId: 2, quantity: 1 }], customerEmail: 'span@example.com' } },
  { method: 'POST', path: '/api/orders', body: { items: [] } },
  { method: 'PURGE', path: '/api/products' },
  { path: '/api/products/2', headers: { forwarded: 'for=203.0.113.5:4711;host=shop.example:8443;proto=https' } },
  { path: '/api/products/3', headers: { 'x-forwarded-for': '198.51.100.7, 10.0.0.1', 'x-forwarded-host': 'shop.example', 'x-forwarded-proto': 'https' } },
  { path: '/api/products/4', headers: { host: '[::1]:3000' } },
];

describe('the tuned server span against the http instrumentation', () => {
  let database: TestDatabase;
  const builds = new Map<'tuned' | 'stock', Traced>();

  before(async () => {
    database = await createTestDatabase('serverspan');
    for (const [name, tuning] of [
      ['tuned', 'true'],
      ['stock', 'false'],
    ] as const) {
      const receiver = await new OtlpReceiver().start();
      const server = await startServerProcess({
        DATABASE_URL: database.url,
        REDIS_URL,
        REDIS_KEY_PREFIX: `serverspan-${name}-${process.pid}:`,
        CLOUDMART_TUNING: tuning,
        CHAOS_ENABLED: 'true',
        CHAOS_TOKEN: TOKEN,
        DORA_RECORD_DEPLOYMENT: 'false',
        OTEL_SDK_DISABLED: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '50',
      });
      builds.set(name, { receiver, server });
    }
  });
  after(async () => {
    for (const { server, receiver } of builds.values()) {
      await server.stop();
      await receiver.stop();
    }
    await database?.drop();
  });

  /** The same call to both builds, in turn; the two trace shapes. */
  async function both(call: Call): Promise<{ tuned?: object; stock?: object; status: number }> {
    const out: { tuned?: object; stock?: object } = {};
    let status = 0;
    for (const [name, { server, receiver }] of builds) {
      const traceId = randomBytes(16).toString('hex');
      const parentId = randomBytes(8).toString('hex');
      status = await send(server, call, traceId, parentId);
      const spans = await eventually(`the server span of ${call.method ?? 'GET'} ${call.path} (${name})`, () => {
        const trace = receiver.trace(traceId);
        return trace.some((s) => s.kind === SERVER) ? trace : undefined;
      });
      out[name] = shape(spans, parentId);
    }
    return { ...out, status };
  }

  for (const call of CALLS) {
    test(`When ${call.method ?? 'GET'} ${call.path}${call.headers ? ` with ${Object.keys(call.headers).join(', ')}` : ''}, then both builds make the same trace`, async () => {
      // A cached read is a different trace from the first one: warm both caches alike first.
      if (!call.method) await both(call);
      const { tuned, stock } = await both(call);
      assert.deepEqual(tuned, stock);
    });
  }

  test('When a fault fails a request with 500, then both builds mark the server span an error the same way', async () => {
    for (const { server } of builds.values()) {
      const res = await fetch(`${server.url}/api/admin/chaos`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ errorRate: 1, routes: ['/api/products/:id'] }),
      });
      assert.equal(res.status, 200);
    }
    const { tuned, stock, status } = await both({ path: '/api/products/5' });
    assert.equal(status, 500);
    assert.deepEqual(tuned, stock);
    assert.equal((tuned as { attributes: Record<string, unknown> }).attributes['error.type'], '500');
  });

  test('When /metrics and /health are requested, then neither build makes a span', async () => {
    for (const { server, receiver } of builds.values()) {
      const before = receiver.spans.length;
      for (const path of ['/metrics', '/health', '/health/ready']) await (await fetch(`${server.url}${path}`)).arrayBuffer();
      // A traced request after them: once its span is in, anything they made would be too.
      const traceId = randomBytes(16).toString('hex');
      await send(server, { path: '/api/no-such-thing' }, traceId, randomBytes(8).toString('hex'));
      await eventually('the marker span', () => (receiver.trace(traceId).length ? true : undefined));
      assert.deepEqual(
        receiver.spans.slice(before).map((s) => s.attributes['url.path']),
        ['/api/no-such-thing'],
      );
    }
  });
});
