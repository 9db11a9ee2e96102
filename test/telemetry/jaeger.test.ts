/**
 * The service's traces in the Jaeger Compose ships (the pinned release, built by
 * scripts/backends.sh), running docker/jaeger/config.yaml with only its listen
 * addresses, the Prometheus URL and the spanmetrics flush interval overridden.
 * Traces are read back through the query APIs the UI uses (v1 /api/traces and
 * v3 /api/v3/traces), and the Monitor tab (SPM) through /api/metrics/*, fed by
 * the pinned Prometheus scraping Jaeger with the shipped `jaeger` job.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import {
  parentOf,
  searchTraces,
  searchTracesV3,
  spm,
  startJaeger,
  jaegerPorts,
  tag,
  v3Spans,
  type Jaeger,
  type JaegerSpan,
  type JaegerTrace,
  type SpmMetricFamily,
} from '../helpers/jaeger';
import { promQuery, startPrometheus, type ManagedProcess } from '../helpers/monitoring';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';
import { startServerProcess, type ServerProcess } from '../../testkit/server-process';
import { requireTool } from '../helpers/tools';
import { eventually } from '../helpers/wait';

const SERVICE = 'cloudmart-backend';
const CHAOS_TOKEN = 'jaeger-chaos-token-0123456789';

/** The request's log line, found by its request id: its trace_id is what Jaeger must hold. */
async function traceIdOf(server: ServerProcess, requestId: string): Promise<string> {
  const line = await eventually(`log line of ${requestId}`, () => server.logs.find((l) => l.req_id === requestId && l.status_code !== undefined));
  const traceId = String(line.trace_id);
  assert.match(traceId, /^[0-9a-f]{32}$/);
  return traceId;
}

/** Exemplar trace ids of the latency histogram's buckets for a route, from /metrics in OpenMetrics. */
async function exemplarTraceIds(server: ServerProcess, route: string): Promise<string[]> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { Accept: 'application/openmetrics-text; version=1.0.0' } })).text();
  const re = /^http_request_duration_seconds_bucket\{([^}]*)\} \S+ # \{trace_id="([0-9a-f]{32})"/gm;
  return [...text.matchAll(re)].filter((m) => (m[1] ?? '').includes(`route="${route}"`)).map((m) => m[2] ?? '');
}

/** A trace as the UI's search finds it (service + operation), once all its spans have arrived. */
async function searched(jaeger: Jaeger, traceId: string, operation: string, minSpans: number): Promise<JaegerTrace> {
  return eventually(
    `trace ${traceId} (${operation}) in Jaeger's search`,
    async () => {
      const traces = await searchTraces(jaeger.queryUrl, { service: SERVICE, operation, lookback: '1h', limit: '100' });
      const trace = traces.find((t) => t.traceID === traceId);
      return trace && trace.spans.length >= minSpans ? trace : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 250 },
  );
}

function serverSpan(trace: JaegerTrace): JaegerSpan {
  const servers = trace.spans.filter((s) => tag(s, 'span.kind') === 'server');
  assert.equal(servers.length, 1, `one server span: ${trace.spans.map((s) => s.operationName).join(', ')}`);
  return servers[0] as JaegerSpan;
}

/** Every span's parent chain reaches the server span. */
function assertDescends(trace: JaegerTrace, spans: JaegerSpan[], root: JaegerSpan): void {
  const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
  for (const s of spans) {
    let cur: JaegerSpan | undefined = s;
    for (let hops = 0; cur && cur !== root && hops < 10; hops++) cur = byId.get(parentOf(cur) ?? '');
    assert.equal(cur, root, `${s.operationName} descends from ${root.operationName}`);
  }
}

function points(family: SpmMetricFamily): number[] {
  return family.metrics.flatMap((m) => m.metricPoints.map((p) => p.gaugeValue?.doubleValue ?? Number.NaN)).filter((v) => Number.isFinite(v));
}

describe('Jaeger v2 with docker/jaeger/config.yaml: CloudMart traces, read back as the UI does, and SPM', { timeout: 180_000 }, () => {
  let jaeger: Jaeger | undefined;
  let prometheus: ManagedProcess | undefined;
  let database: TestDatabase | undefined;
  let server: ServerProcess | undefined;
  let jaegerBin: string | null = null;
  const startedAt = Date.now();

  before(async () => {
    // Missing or other versions fail CI (CI=true) and skip the tests elsewhere.
    jaegerBin = requireTool('jaeger');
    const promBin = requireTool('prometheus');
    if (!jaegerBin || !promBin) return;
    const ports = await jaegerPorts();
    // The shipped `jaeger` job, pointed at this Jaeger's telemetry and spanmetrics ports.
    prometheus = await startPrometheus(
      promBin,
      { jaeger: [`127.0.0.1:${ports.telemetry}`, `127.0.0.1:${ports.spanmetrics}`] },
      { scrape: '1s', evaluation: '1s' },
    );
    jaeger = await startJaeger(jaegerBin, ports, prometheus.url);
    database = await createTestDatabase('jaeger');
    server = await startServerProcess({
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: `jaeger-${process.pid}:`,
      OTEL_SDK_DISABLED: 'false',
      OTEL_SERVICE_NAME: SERVICE,
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttpUrl,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      CHAOS_ENABLED: 'true',
      CHAOS_TOKEN,
    });
  });

  after(async () => {
    await server?.stop();
    await jaeger?.stop();
    await prometheus?.stop();
    await database?.drop();
  });

  /** The running stack, or a skip (only possible outside CI, where requireTool already said why). */
  function running(t: TestContext): { jaeger: Jaeger; server: ServerProcess; prometheus: ManagedProcess } | undefined {
    if (jaeger && server && prometheus) return { jaeger, server, prometheus };
    t.skip('jaeger or prometheus not available');
    return undefined;
  }

  test("When a product list is served from the cache, then Jaeger holds its server span named by route with one Redis child, under the log line's and the exemplar's trace id", async (t) => {
    const s = running(t);
    if (!s) return;
    const warm = await fetch(`${s.server.url}/api/products?category=books`, { headers: { 'X-Request-Id': 'jaeger-list-miss' } });
    assert.equal(warm.status, 200);
    const res = await fetch(`${s.server.url}/api/products?category=books`, { headers: { 'X-Request-Id': 'jaeger-list-hit' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-cache'), 'HIT');
    const traceId = await traceIdOf(s.server, 'jaeger-list-hit');

    // v1, the UI's search: service + operation.
    const trace = await searched(s.jaeger, traceId, 'GET /api/products', 2);
    const root = serverSpan(trace);
    assert.equal(root.operationName, 'GET /api/products');
    assert.equal(tag(root, 'http.route'), '/api/products');
    assert.equal(trace.processes[root.processID]?.serviceName, SERVICE);
    const redis = trace.spans.filter((x) => tag(x, 'db.system.name') === 'redis');
    assert.equal(redis.length, 1, trace.spans.map((x) => x.operationName).join(', '));
    assert.equal(parentOf(redis[0] as JaegerSpan), root.spanID, 'the Redis span is a child of the server span');
    assert.equal(tag(redis[0] as JaegerSpan, 'span.kind'), 'client');
    assert.equal(trace.spans.filter((x) => tag(x, 'db.system.name') === 'postgresql').length, 0, 'a cache hit reads no Postgres');

    // v3 (OTLP JSON): the same trace under the same ids.
    const v3 = await eventually(
      `trace ${traceId} in /api/v3/traces`,
      async () => {
        const spans = v3Spans(
          await searchTracesV3(s.jaeger.queryUrl, {
            'query.service_name': SERVICE,
            'query.operation_name': 'GET /api/products',
            // The memory store refuses a search without a depth.
            'query.num_traces': '100',
            'query.start_time_min': new Date(startedAt - 60_000).toISOString(),
            'query.start_time_max': new Date(Date.now() + 60_000).toISOString(),
          }),
        ).filter((x) => x.traceId.toLowerCase() === traceId);
        return spans.length >= 2 ? spans : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    const v3Root = v3.find((x) => x.name === 'GET /api/products');
    assert.ok(v3Root, v3.map((x) => x.name).join(', '));
    assert.equal(v3Root.spanId.toLowerCase(), root.spanID);
    assert.ok(v3.every((x) => x.service === SERVICE));
    assert.ok(
      v3.some((x) => x.parentSpanId?.toLowerCase() === root.spanID),
      'the Redis child under the server span',
    );

    const exemplars = await exemplarTraceIds(s.server, '/api/products');
    assert.ok(exemplars.includes(traceId), `exemplar trace ids for /api/products: ${exemplars.join(', ')}`);
  });

  test("When an order is placed, then its trace in Jaeger holds the transaction's Postgres spans under the server span", async (t) => {
    const s = running(t);
    if (!s) return;
    const res = await fetch(`${s.server.url}/api/orders`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'jaeger-order' },
      body: JSON.stringify({
        items: [
          { productId: 2, quantity: 1 },
          { productId: 3, quantity: 1 },
        ],
        customerEmail: 'jaeger@example.com',
      }),
    });
    assert.equal(res.status, 201);
    const traceId = await traceIdOf(s.server, 'jaeger-order');
    const trace = await searched(s.jaeger, traceId, 'POST /api/orders', 4);
    const root = serverSpan(trace);
    assert.equal(root.operationName, 'POST /api/orders');
    const pg = trace.spans.filter((x) => tag(x, 'db.system.name') === 'postgresql');
    const statements = pg.map((x) => String(tag(x, 'db.query.text') ?? x.operationName));
    for (const needle of ['BEGIN', 'FOR UPDATE', 'COMMIT'])
      assert.ok(
        statements.some((q) => q.includes(needle)),
        `${needle} in ${statements.join(' | ')}`,
      );
    assertDescends(trace, pg, root);
    const exemplars = await exemplarTraceIds(s.server, '/api/orders');
    assert.ok(exemplars.includes(traceId), `exemplar trace ids for /api/orders: ${exemplars.join(', ')}`);
  });

  test("When the service exports over OTLP/gRPC (Compose's 4317), then Jaeger holds that trace too", async (t) => {
    const s = running(t);
    if (!s || !database) return;
    const grpc = await startServerProcess({
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: `jaeger-grpc-${process.pid}:`,
      OTEL_SDK_DISABLED: 'false',
      OTEL_SERVICE_NAME: SERVICE,
      OTEL_EXPORTER_OTLP_ENDPOINT: s.jaeger.otlpGrpcUrl,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    try {
      const res = await fetch(`${grpc.url}/api/products/5`, { headers: { 'X-Request-Id': 'jaeger-grpc' } });
      assert.equal(res.status, 200);
      const traceId = await traceIdOf(grpc, 'jaeger-grpc');
      const trace = await searched(s.jaeger, traceId, 'GET /api/products/:id', 2);
      assert.equal(serverSpan(trace).operationName, 'GET /api/products/:id');
      assert.ok(
        trace.spans.some((x) => tag(x, 'db.system.name') === 'postgresql' || tag(x, 'db.system.name') === 'redis'),
        'with its data store children',
      );
    } finally {
      await grpc.stop();
    }
  });

  test("When traffic flows, then Prometheus scrapes Jaeger's span metrics and the Monitor tab (SPM) shows calls, latencies and injected errors", async (t) => {
    const s = running(t);
    if (!s) return;
    const burst = async (n: number, path: string) => {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) statuses.push((await fetch(`${s.server.url}${path}`)).status);
      return statuses;
    };
    await burst(10, '/api/products?category=toys');

    // The shipped jaeger job: both targets up, the spanmetrics series present.
    await eventually(
      'both jaeger targets up in Prometheus',
      async () => {
        const up = (await promQuery(s.prometheus.url, 'up{job="jaeger"} == 1')).data?.result ?? [];
        return up.length === 2 ? up : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );

    const calls = await eventually(
      'SPM calls for cloudmart-backend',
      async () => {
        // Traffic keeps flowing: a rate needs the counter to rise between two scrapes.
        await burst(3, '/api/products?category=toys');
        const family = await spm(s.jaeger.queryUrl, 'calls', SERVICE);
        return points(family).some((v) => v > 0) ? family : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000 },
    );
    assert.ok(
      calls.metrics.every((m) => m.labels.some((l) => l.name === 'service_name' && l.value === SERVICE)),
      JSON.stringify(calls.metrics[0]?.labels),
    );
    const latencies = await eventually(
      'SPM p95 latency for cloudmart-backend',
      async () => {
        await burst(3, '/api/products?category=toys');
        const family = await spm(s.jaeger.queryUrl, 'latencies', SERVICE);
        return points(family).some((v) => v > 0) ? family : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 1000 },
    );
    assert.ok(points(latencies).length > 0);

    // Errors: a chaos fault fails every product request with a 500, an ERROR server span.
    const put = await fetch(`${s.server.url}/api/admin/chaos`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${CHAOS_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ errorRate: 1, routes: ['/api/products'] }),
    });
    assert.equal(put.status, 200, await put.text());
    try {
      const statuses = await burst(10, '/api/products?category=garden');
      assert.ok(
        statuses.every((x) => x === 500),
        statuses.join(','),
      );
      const errors = await eventually(
        'SPM error rate above 0 for cloudmart-backend',
        async () => {
          const failed = await burst(3, '/api/products?category=garden');
          assert.ok(
            failed.every((x) => x === 500),
            failed.join(','),
          );
          const family = await spm(s.jaeger.queryUrl, 'errors', SERVICE);
          return points(family).some((v) => v > 0) ? family : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 1000 },
      );
      assert.ok(Math.max(...points(errors)) <= 1, 'errors are a fraction of calls');
    } finally {
      await fetch(`${s.server.url}/api/admin/chaos`, { method: 'DELETE', headers: { Authorization: `Bearer ${CHAOS_TOKEN}` } });
    }
  });
});
