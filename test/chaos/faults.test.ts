import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import request from 'supertest';
import type { TestApp } from '../helpers/app';
import { AUTH, metricValue, startChaosApp } from './chaos-app';

async function timed(fn: () => PromiseLike<request.Response>): Promise<{ res: request.Response; ms: number }> {
  const start = performance.now();
  const res = await fn();
  return { res, ms: performance.now() - start };
}

const order = { items: [{ productId: 2, quantity: 1 }], customerEmail: 'chaos@example.com' };

describe('injected faults (real Postgres and Redis)', () => {
  let t: TestApp;
  let unique = 0;
  // A search nobody made before: always a cache miss, so it reaches Postgres.
  const freshSearch = () => `/api/products?q=chaos-${++unique}`;
  const put = (body: object) => request(t.app).put('/api/admin/chaos').set(AUTH).send(body).expect(200);
  const injected = async (fault: string) => (await metricValue(t, 'cloudmart_chaos_injected_total', { fault })) ?? NaN;

  before(async () => {
    t = await startChaosApp();
  });
  afterEach(async () => {
    await request(t.app).delete('/api/admin/chaos').set(AUTH).expect(200);
  });
  after(() => t.close());

  test('When errorRate is 1 on /api/products, then its routes answer 500 CHAOS_INJECTED under their own route label, and other routes do not', async () => {
    assert.equal(await injected('error'), 0, 'the counter exists at 0 before the first injection');
    await put({ errorRate: 1, routes: ['/api/products'] });
    const list = await request(t.app).get('/api/products').expect(500);
    assert.equal(list.body.error.code, 'CHAOS_INJECTED');
    assert.equal((await request(t.app).get('/api/products/3').expect(500)).body.error.code, 'CHAOS_INJECTED');
    await request(t.app).get('/api/orders').expect(200);
    await request(t.app).get('/health').expect(200);
    await request(t.app).get('/api/admin/chaos').set(AUTH).expect(200);
    assert.equal((await request(t.app).get('/api/nope').expect(404)).body.error.code, 'ROUTE_NOT_FOUND', 'unknown paths are not API routes');
    assert.equal(await injected('error'), 2);
    assert.equal(await metricValue(t, 'http_requests_total', { method: 'GET', route: '/api/products', status_code: '500' }), 1);
    assert.equal(await metricValue(t, 'http_requests_total', { method: 'GET', route: '/api/products/:id', status_code: '500' }), 1);
  });

  test('When errorRate is 1 on every route, then the chaos endpoint itself stays reachable and can clear it', async () => {
    await put({ errorRate: 1 });
    await request(t.app).get('/api/orders').expect(500);
    await request(t.app).post('/api/orders').send(order).expect(500);
    await request(t.app).get('/api/admin/chaos').set(AUTH).expect(200);
    await request(t.app).delete('/api/admin/chaos').set(AUTH).expect(200);
    await request(t.app).get('/api/orders').expect(200);
  });

  test('When errorRate is 0.5, then roughly half the requests fail', async () => {
    await put({ errorRate: 0.5, routes: ['/api/products/:id'] });
    let failed = 0;
    for (let i = 0; i < 60; i++) if ((await request(t.app).get('/api/products/1')).status === 500) failed += 1;
    assert.ok(failed > 10 && failed < 50, `${failed} of 60 failed`);
  });

  test('When latencyMs is set, then matching requests take at least that long and others do not', async () => {
    await put({ latencyMs: 400, routes: ['/api/products'] });
    const slow = await timed(() => request(t.app).get('/api/products?limit=2'));
    assert.equal(slow.res.status, 200);
    assert.ok(slow.ms >= 390, `took ${Math.round(slow.ms)} ms`);
    assert.equal(await injected('latency'), 1);
    // Another route is not delayed: the fault's counter, not a clock a loaded machine can stretch.
    await request(t.app).get('/api/orders').expect(200);
    assert.equal(await injected('latency'), 1, 'no latency injected into /api/orders');
  });

  test('When dbErrorRate is 1, then reads that reach Postgres and orders answer 503 DATABASE_UNAVAILABLE, and readiness stays up', async () => {
    await request(t.app).get('/api/products/5').expect(200); // cached now
    await put({ dbErrorRate: 1 });
    const res = await request(t.app).get(freshSearch()).expect(503);
    assert.equal(res.body.error.code, 'DATABASE_UNAVAILABLE');
    assert.equal(res.headers['retry-after'], '5');
    assert.equal((await request(t.app).post('/api/orders').send(order).expect(503)).body.error.code, 'DATABASE_UNAVAILABLE');
    // A cache hit never touches the database.
    await request(t.app).get('/api/products/5').expect(200);
    // Readiness pings Postgres directly: the database really is up, only the query path is faulted.
    await request(t.app).get('/health/ready').expect(200);
    assert.equal(await injected('db_error'), 2);
    await request(t.app).delete('/api/admin/chaos').set(AUTH).expect(200);
    await request(t.app).get(freshSearch()).expect(200);
    await request(t.app).post('/api/orders').send(order).expect(201);
  });

  test('When eventLoopBlockMs is set, then a matching request holds the whole event loop that long, and other routes do not', async () => {
    await put({ eventLoopBlockMs: 300, routes: ['/api/products/:id'] });
    // The app runs in this process, so a 5 ms ticker here stops for as long as the loop is held:
    // its longest gap is at least the block (a loaded machine only makes gaps longer), while an
    // async wait such as latencyMs would leave it ticking.
    let last = performance.now();
    let longestGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 5);
    await request(t.app).get('/api/products/1').expect(200);
    await new Promise((resolve) => setTimeout(resolve, 20));
    clearInterval(ticker);
    assert.ok(longestGap >= 300, `longest gap between ticks ${Math.round(longestGap)} ms`);
    assert.equal(await injected('event_loop_block'), 1);
    await request(t.app).get('/api/products').expect(200);
    assert.equal(await injected('event_loop_block'), 1, 'nothing injected into /api/products');
  });

  test('When dbSlowMs is set, then a request that queries Postgres is slowed by at least that much', async () => {
    await put({ dbSlowMs: 300 });
    const slow = await timed(() => request(t.app).get(freshSearch()));
    assert.equal(slow.res.status, 200);
    assert.ok(slow.ms >= 290, `took ${Math.round(slow.ms)} ms`);
    assert.ok((await injected('db_slow')) >= 1);
  });

  test('When cacheDown is set, then reads miss, are counted as cache errors and still answer from Postgres', async () => {
    const url = '/api/products?category=toys&limit=3';
    await request(t.app).get(url).expect(200);
    assert.equal((await request(t.app).get(url).expect(200)).headers['x-cache'], 'HIT');
    const errorsBefore = (await metricValue(t, 'cloudmart_cache_requests_total', { result: 'error' })) ?? 0;
    await put({ cacheDown: true });
    for (let i = 0; i < 2; i++) {
      const res = await request(t.app).get(url).expect(200);
      assert.equal(res.headers['x-cache'], 'MISS');
      assert.equal(res.body.data.length, 3);
    }
    assert.equal(await metricValue(t, 'cloudmart_cache_requests_total', { result: 'error' }), errorsBefore + 2);
    assert.ok((await injected('cache_down')) >= 2);
    assert.equal(await metricValue(t, 'cloudmart_redis_connected'), 0);
    const ready = await request(t.app).get('/health/ready').expect(200);
    assert.equal(ready.body.dependencies.redis.status, 'down');
    // An order does not need the cache (its invalidation failing is tolerated).
    await request(t.app).post('/api/orders').send(order).expect(201);
    await request(t.app).delete('/api/admin/chaos').set(AUTH).expect(200);
    assert.equal(await metricValue(t, 'cloudmart_redis_connected'), 1);
    await request(t.app).get(url).expect(200);
    assert.equal((await request(t.app).get(url).expect(200)).headers['x-cache'], 'HIT');
  });
});
