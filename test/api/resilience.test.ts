import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { createTestDatabase, type TestDatabase } from '../../testkit/postgres';
import { sampleFrom } from '../helpers/metrics-text';
import { TcpProxy } from '../helpers/tcp-proxy';
import { eventually } from '../helpers/wait';

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

/** The error logged with the 503 of the request that answered `res`. */
function errorOf(t: TestApp, res: request.Response): { code?: string; message?: string } {
  const id = String(res.headers['x-request-id']);
  const line = t.logs.find((l) => l.req_id === id && typeof l.err === 'object');
  assert.ok(line, `an error logged for request ${id}`);
  return line.err as { code?: string; message?: string };
}

describe('when Postgres goes away and comes back', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let t: TestApp;
  before(async () => {
    database = await createTestDatabase('pgdown');
    // Migrate directly, then route the app's pool through the proxy.
    const direct = await startTestApp({ database: { url: database.url }, cache: 'memory' });
    await direct.close();
    proxy = await new TcpProxy(Number(new URL(database.url).port || 5432)).start();
    const u = new URL(database.url);
    u.port = String(proxy.port);
    t = await startTestApp({
      database: { url: u.toString() },
      cache: 'memory',
      env: { DB_CONNECT_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '1000', MIGRATE_ON_START: 'false' },
    });
  });
  after(async () => {
    await t.close();
    await proxy.stop();
    await database.drop();
  });

  test('When Postgres refuses connections, then the API answers 503 JSON quickly and readiness fails', async () => {
    await request(t.app).get('/api/products?q=mouse').expect(200);
    proxy.set('reset');
    const res = await request(t.app).get('/api/products?q=keyboard');
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, 'DATABASE_UNAVAILABLE');
    assert.equal(res.headers['retry-after'], '5');
    // Quickly: on the refusal itself, not on the connect timeout (the clock is left to the bench).
    const err = errorOf(t, res);
    assert.equal(err.code, 'ECONNRESET', JSON.stringify(err));
    const order = await request(t.app)
      .post('/api/orders')
      .send({ items: [{ productId: 1, quantity: 1 }], customerEmail: 'a@b.co' });
    assert.equal(order.status, 503);
    const ready = await request(t.app).get('/health/ready').expect(503);
    assert.equal(ready.body.dependencies.postgres.status, 'down');
    await request(t.app).get('/health').expect(200);
  });

  test('When Postgres hangs, then requests still end with 503 within the configured bound', async () => {
    proxy.set('blackhole');
    const { value: res, ms } = await timed(() => request(t.app).get('/api/products/17'));
    assert.equal(res.status, 503);
    // A blackhole never answers: the request ended because the configured connect timeout
    // (DB_CONNECT_TIMEOUT_MS, 1000 ms) fired, and not before it.
    const err = errorOf(t, res);
    assert.match(String(err.message), /connection timeout/, JSON.stringify(err));
    assert.ok(ms >= 900, `answered after ${Math.round(ms)} ms, when the timeout fired`);
  });

  test('When Postgres comes back, then the API recovers without a restart', async () => {
    proxy.set('reset');
    proxy.set('pass');
    await eventually('the API to recover', async () => ((await request(t.app).get('/api/products?q=lamp')).status === 200 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    await request(t.app).get('/health/ready').expect(200);
    await request(t.app)
      .post('/api/orders')
      .send({ items: [{ productId: 20, quantity: 1 }], customerEmail: 'a@b.co' })
      .expect(201);
  });
});

describe('when Redis is unreachable', () => {
  let t: TestApp;
  before(async () => {
    // Port 1 on loopback: nothing listens there, every connect is refused. The command
    // timeout is long, so a request that waited for Redis would take 10 s.
    t = await startTestApp({ cache: { url: 'redis://127.0.0.1:1' }, env: { REDIS_COMMAND_TIMEOUT_MS: '10000' } });
  });
  after(() => t.close());

  test('When products are requested, then they are served from Postgres and the cache error is counted', async () => {
    const { value: res, ms } = await timed(() => request(t.app).get('/api/products').expect(200));
    assert.equal(res.headers['x-cache'], 'MISS');
    assert.equal(res.body.data.length, 20);
    assert.ok(ms < 2000, `answered in ${Math.round(ms)} ms, not after the 10 s command timeout`);
    await request(t.app).get('/api/products/3').expect(200);
    await request(t.app)
      .post('/api/orders')
      .send({ items: [{ productId: 21, quantity: 1 }], customerEmail: 'a@b.co' })
      .expect(201);
    const metrics = (await request(t.app).get('/metrics')).text;
    assert.ok((sampleFrom(metrics, 'cloudmart_cache_requests_total', { result: 'error' }) ?? 0) >= 1, 'cache errors counted');
    assert.equal(sampleFrom(metrics, 'cloudmart_redis_connected'), 0);
    const ready = await request(t.app).get('/health/ready').expect(200);
    assert.equal(ready.body.dependencies.redis.status, 'down', 'reported, but the cache is optional');
  });
});

describe('when Redis goes away and comes back', () => {
  let proxy: TcpProxy;
  let t: TestApp;
  before(async () => {
    proxy = await new TcpProxy(6379).start();
    t = await startTestApp({ cache: { url: `redis://127.0.0.1:${proxy.port}` } });
  });
  after(async () => {
    await t.close();
    await proxy.stop();
  });

  test('When Redis hangs, then requests fall back within the command timeout', async () => {
    await eventually('redis to connect', () => (t.cache.connected() ? true : undefined), { timeoutMs: 5000 });
    proxy.set('blackhole');
    const errors = async () => sampleFrom((await request(t.app).get('/metrics')).text, 'cloudmart_cache_requests_total', { result: 'error' }) ?? 0;
    const before = await errors();
    const { value: res, ms } = await timed(() => request(t.app).get('/api/products?category=toys').expect(200));
    assert.equal(res.headers['x-cache'], 'MISS');
    // A blackhole never answers: the request fell back because the command timeout
    // (REDIS_COMMAND_TIMEOUT_MS, 200 ms) fired, counted as a cache error, and not before it.
    assert.ok((await errors()) > before, 'the timed-out command counted as a cache error');
    assert.ok(ms >= 190, `answered after ${Math.round(ms)} ms, when the timeout fired`);
  });

  test('When Redis returns, then the cache serves hits again by itself', async () => {
    proxy.set('reset');
    await request(t.app).get('/api/products?category=home').expect(200);
    proxy.set('pass');
    await eventually(
      'cache hits to resume',
      async () => {
        await request(t.app).get('/api/products?category=home');
        return (await request(t.app).get('/api/products?category=home')).headers['x-cache'] === 'HIT' ? true : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
  });
});
