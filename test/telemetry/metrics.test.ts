import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { seriesFrom } from '../helpers/metrics-text';

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
    await request(t.app).get('/api/products?limit=7').expect(200);
    await request(t.app).get('/api/products?limit=7').expect(200);
    const text = (await request(t.app).get('/metrics')).text;
    assert.match(text, /^cloudmart_orders_created_total 1$/m);
    assert.match(text, /^cloudmart_orders_failed_total\{reason="insufficient_stock"\} 1$/m);
    assert.match(text, /^cloudmart_order_value_cents_count 1$/m);
    assert.match(text, /^cloudmart_cache_requests_total\{result="hit"\} [1-9]/m);
    assert.match(text, /^cloudmart_cache_requests_total\{result="miss"\} [1-9]/m);
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
