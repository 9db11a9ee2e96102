import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import request from 'supertest';
import { LATENCY_BUCKETS } from '../../src/telemetry/metrics';
import { startTestApp, type TestApp } from '../helpers/app';
import { sampleFrom, seriesFrom } from '../helpers/metrics-text';
import { requireTool } from '../helpers/tools';

describe('GET /metrics', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  test('When requests were served, then RED metrics are labelled by route template, method and status', async () => {
    await request(t.app).get('/api/products/4').expect(200);
    await request(t.app).get('/api/products/999999').expect(404);
    const text = (await request(t.app).get('/metrics').expect(200)).text;
    assert.match(text, /^http_requests_total\{method="GET",route="\/api\/products\/:id",status_code="200"\} 1$/m);
    assert.match(text, /^http_requests_total\{method="GET",route="\/api\/products\/:id",status_code="404"\} 1$/m);
    assert.match(text, /^http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/api\/products\/:id",status_code="200"\} \d+$/m);
    assert.match(text, /^http_request_duration_seconds_bucket\{le="10",/m);
    assert.match(text, /^# TYPE http_requests_in_flight gauge$/m);
    // GC samples appear after the first collection; the family is always declared.
    assert.match(text, /^# TYPE nodejs_gc_duration_seconds histogram$/m);
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'process_cpu_seconds_total',
      'cloudmart_db_pool_connections',
      'cloudmart_build_info',
      'cloudmart_redis_connected',
    ]) {
      assert.ok(seriesFrom(text, name).length > 0, name);
    }
  });

  test('The latency histogram has the 14 bucket boundaries the OpenTelemetry HTTP semantic conventions advise', () => {
    assert.deepEqual(LATENCY_BUCKETS, [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
  });

  test("When promtool checks a whole scrape, then its only findings are on prom-client's own nodejs_active_*_total gauges", async (tc) => {
    const promtool = requireTool('promtool', tc);
    if (!promtool) return;
    await request(t.app).get('/api/products?limit=3').expect(200);
    await request(t.app).get('/api/products/999999').expect(404);
    const text = (await request(t.app).get('/metrics').expect(200)).text;
    const check = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    const findings = `${check.stdout}${check.stderr}`.split('\n').filter(Boolean);
    // Upstream's: prom-client names these gauges with _total, a counter's suffix (docs/telemetry.md).
    const ours = findings.filter((f) => !/^nodejs_active_\w+_total\b/.test(f));
    assert.deepEqual(ours, [], findings.join('\n'));
    if (findings.length > 0) assert.notEqual(check.status, 0, 'promtool reports findings with a non-zero exit');
  });

  test('When the pool is sampled, then its connections are split into idle and in_use, which add up to the open connections', async () => {
    await request(t.app).get('/api/products/4').expect(200);
    const text = (await request(t.app).get('/metrics').expect(200)).text;
    const states = seriesFrom(text, 'cloudmart_db_pool_connections').map((s) => s.labels.state);
    assert.deepEqual(states.sort(), ['idle', 'in_use']);
    assert.match(text, /^# HELP cloudmart_db_pool_connections .*\(idle, in_use\)/m);
  });

  test('When /metrics and /health are requested, then they are not counted as traffic', async () => {
    await request(t.app).get('/health').expect(200);
    await request(t.app).get('/health/ready').expect(200);
    await request(t.app).get('/metrics').expect(200);
    const text = (await request(t.app).get('/metrics')).text;
    assert.doesNotMatch(text, /route="\/metrics"|route="\/health/);
  });

  test('When the scraper asks for OpenMetrics, then it gets OpenMetrics with exemplars; otherwise the text format', async () => {
    const plain = await request(t.app).get('/metrics').expect(200);
    assert.match(plain.headers['content-type'] ?? '', /^text\/plain; version=0.0.4/);
    assert.doesNotMatch(plain.text, /# EOF/);
    assert.match(plain.text, /^# TYPE http_requests_total counter$/m);
    const om = await request(t.app).get('/metrics').set('Accept', 'application/openmetrics-text;version=1.0.0,text/plain;q=0.5').expect(200);
    assert.match(om.headers['content-type'] ?? '', /^application\/openmetrics-text; version=1.0.0/);
    assert.match(om.text, /^# TYPE http_requests counter$/m, 'OpenMetrics names the counter family without _total');
    assert.match(om.text, /^http_requests_total\{/m);
    assert.ok(om.text.endsWith('# EOF\n'));
    // Rendering OpenMetrics must not rename the counters served to the next plain scrape.
    assert.match((await request(t.app).get('/metrics')).text, /^# TYPE http_requests_total counter$/m);
  });

  test('When 3,000 distinct unknown URLs are requested, then at most a fixed handful of series appear', async () => {
    const count = async () => {
      const text = (await request(t.app).get('/metrics')).text;
      // Series a client could influence; runtime series (e.g. a new GC kind) appear on their own.
      return text.split('\n').filter((l) => /^(http_|cloudmart_)/.test(l)).length;
    };
    await request(t.app).get('/warmup-unknown').expect(404);
    await request(t.app).post('/warmup-unknown').expect(404);
    const before = await count();
    for (let i = 0; i < 3000; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) => request(t.app)[j % 2 ? 'get' : 'post'](`/u/${i + j}/${Math.random().toString(36).slice(2)}?x=${i + j}`)),
      );
    }
    const grown = (await count()) - before;
    assert.ok(grown <= 2, `${grown} new series`);
    const text = (await request(t.app).get('/metrics')).text;
    assert.match(text, /^http_requests_total\{method="GET",route="unmatched",status_code="404"\} 150[01]$/m);
  });

  test('When an order is created or refused, then the business metrics count it', async () => {
    await request(t.app)
      .post('/api/orders')
      .send({ items: [{ productId: 2, quantity: 1 }], customerEmail: 'm@x.co' })
      .expect(201);
    await request(t.app)
      .post('/api/orders')
      .send({ items: [{ productId: 2, quantity: 1000 }], customerEmail: 'm@x.co' })
      .expect(409);
    const cache = async (result: string) => sampleFrom((await request(t.app).get('/metrics')).text, 'cloudmart_cache_requests_total', { result }) ?? 0;
    const before = { hit: await cache('hit'), miss: await cache('miss') };
    await request(t.app).get('/api/products?limit=7').expect(200);
    await request(t.app).get('/api/products?limit=7').expect(200);
    const text = (await request(t.app).get('/metrics')).text;
    assert.match(text, /^cloudmart_orders_created_total 1$/m);
    assert.match(text, /^cloudmart_orders_failed_total\{reason="insufficient_stock"\} 1$/m);
    assert.match(text, /^cloudmart_order_value_cents_count 1$/m);
    // Counted by these two reads, the first a miss and the second a hit, not by earlier tests.
    assert.ok((sampleFrom(text, 'cloudmart_cache_requests_total', { result: 'miss' }) ?? 0) > before.miss, 'the first read counted a miss');
    assert.ok((sampleFrom(text, 'cloudmart_cache_requests_total', { result: 'hit' }) ?? 0) > before.hit, 'the second read counted a hit');
    assert.match(text, /^cloudmart_redis_connected 1$/m);
  });
});

describe('METRICS_ENABLED=false', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ cache: 'memory', env: { METRICS_ENABLED: 'false' } });
  });
  after(() => t.close());

  test('When request metrics are off, then requests are served and not measured', async () => {
    await request(t.app).get('/api/products').expect(200);
    const text = (await request(t.app).get('/metrics').expect(200)).text;
    assert.equal(seriesFrom(text, 'http_requests_total').length, 0);
    assert.ok(seriesFrom(text, 'process_cpu_seconds_total').length > 0, 'runtime metrics stay');
  });
});
