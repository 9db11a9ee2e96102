/**
 * Replicas of one service (two or three apps on one Redis key prefix and one database,
 * as `--scale backend=3` runs them): a fault switched on or off through any of them
 * reaches the others through Redis, without a Redis round trip per request.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import request from 'supertest';
import { chaosFaultsSchema } from '../../src/chaos/faults';
import { newChange } from '../../src/chaos/state';
import { encodeChange } from '../../src/chaos/stored-change';
import { REDIS_URL } from '../../testkit/postgres';
import type { TestApp } from '../helpers/app';
import { TcpProxy } from '../helpers/tcp-proxy';
import { eventually } from '../helpers/wait';
import { AUTH, metricValue, startChaosApp } from './chaos-app';

const CHAOS = '/api/admin/chaos';
const put = async (t: TestApp, body: object) => (await request(t.app).put(CHAOS).set(AUTH).send(body).expect(200)).body as Snapshot;
const clear = async (t: TestApp) => (await request(t.app).delete(CHAOS).set(AUTH).expect(200)).body as Snapshot;
const snapshot = async (t: TestApp) => (await request(t.app).get(CHAOS).set(AUTH).expect(200)).body as Snapshot;

interface Snapshot {
  faults: Record<string, unknown>;
  active: string[];
  changedAt: string | null;
  expiresAt: string | null;
}

/** Waits until `path` (or each path it makes) on `t` answers `status` (a fault arriving or leaving), and returns that answer. */
function answers(t: TestApp, path: string | (() => string), status: number, what: string): Promise<request.Response> {
  return eventually(what, async () => {
    const res = await request(t.app).get(typeof path === 'string' ? path : path());
    return res.status === status ? res : undefined;
  });
}

async function timed(fn: () => PromiseLike<request.Response>): Promise<{ res: request.Response; ms: number }> {
  const start = performance.now();
  const res = await fn();
  return { res, ms: performance.now() - start };
}

const countLogs = (t: TestApp, msg: string) => t.logs.lines.filter((l) => l.msg === msg).length;

describe('chaos faults shared by replicas through Redis', () => {
  const prefix = `cloudmart-test:${randomBytes(4).toString('hex')}:`;
  let a: TestApp;
  let b: TestApp;
  let redis: Redis;
  let unique = 0;
  // A search nobody made before: always a cache miss, so it reaches Postgres.
  const freshSearch = () => `/api/products?q=replica-${++unique}`;

  before(async () => {
    a = await startChaosApp({ keyPrefix: prefix });
    b = await startChaosApp({ keyPrefix: prefix, database: { url: a.database?.url ?? '' } });
    redis = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    await clear(a);
    await eventually('the other replica to clear too', async () => ((await snapshot(b)).active.length === 0 ? true : undefined));
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await redis?.del(`${prefix}chaos`);
    redis?.disconnect();
  });

  test('When a fault is switched on through one replica, then the other applies it; switched off through the other, it clears on the first', async () => {
    await request(b.app).get('/api/products').expect(200);
    const on = await put(a, { errorRate: 1, routes: ['/api/products'] });

    const failed = await answers(b, '/api/products', 500, 'replica B to inject the error');
    assert.equal(failed.body.error.code, 'CHAOS_INJECTED');
    await request(b.app).get('/api/orders').expect(200);
    assert.deepEqual(await snapshot(b), on, 'B shows the change A made, with its time');
    assert.equal(await metricValue(b, 'cloudmart_chaos_fault_active', { fault: 'error' }), 1);
    assert.equal(await metricValue(b, 'cloudmart_chaos_injected_total', { fault: 'error' }), 1);
    assert.equal(countLogs(b, 'chaos faults set'), 1);
    assert.equal(countLogs(a, 'chaos faults set'), 1, 'A heard its own announcement and changed nothing');

    const off = await clear(b);
    await answers(a, '/api/products', 200, 'replica A to stop injecting');
    assert.deepEqual(await snapshot(a), off);
    assert.equal(await metricValue(a, 'cloudmart_chaos_fault_active', { fault: 'error' }), 0);
    assert.ok(a.logs.find((l) => l.msg === 'chaos faults cleared'));
  });

  test('When latency and a database fault are switched on through one replica, then the other slows and fails its requests as they say', async () => {
    await put(a, { latencyMs: 300, routes: ['/api/orders'], dbErrorRate: 1 });
    const failed = await answers(b, freshSearch, 503, 'replica B to fail database queries');
    assert.equal(failed.body.error.code, 'DATABASE_UNAVAILABLE');
    const slow = await timed(() => request(b.app).get('/api/orders'));
    assert.equal(slow.res.status, 503);
    assert.ok(slow.ms >= 290, `took ${Math.round(slow.ms)} ms`);
    assert.equal(await metricValue(b, 'cloudmart_chaos_injected_total', { fault: 'latency' }), 1);
  });

  test('When a fault with a ttl is switched on through one replica, then the other expires it at the same time', async () => {
    const on = await put(a, { errorRate: 1, routes: ['/api/orders'], ttlSeconds: 3 });
    // B expires it when A does (the logged expiresAt), not a ttl after it heard of it.
    await eventually('replica B to apply the fault with its expiry', () => b.logs.find((l) => l.msg === 'chaos faults set' && l.expiresAt === on.expiresAt));
    await request(b.app).get('/api/orders').expect(500);

    await eventually('replica B to expire the fault', () => b.logs.find((l) => l.msg === 'chaos faults expired'));
    await request(b.app).get('/api/orders').expect(200);
    const expired = await snapshot(b);
    assert.deepEqual(expired.active, []);
    assert.equal(expired.expiresAt, null);
    await eventually('replica A to expire it too', () => a.logs.find((l) => l.msg === 'chaos faults expired'));
    await eventually('Redis to drop the expired fault too', async () => ((await redis.exists(`${prefix}chaos`)) === 0 ? true : undefined));
  });

  test('When a replica starts while a fault is on, then its first request already has it', async () => {
    await put(a, { errorRate: 1, routes: ['/api/products'] });
    const c = await startChaosApp({ keyPrefix: prefix, database: { url: a.database?.url ?? '' } });
    try {
      assert.equal((await request(c.app).get('/api/products').expect(500)).body.error.code, 'CHAOS_INJECTED');
    } finally {
      await c.close();
    }
  });

  test('When the announcement of a change is lost, then every replica still applies it on its next re-read', async () => {
    const faults = chaosFaultsSchema.parse({ errorRate: 1, routes: ['/api/products'] });
    // Stored the way a replica stores it, but announced to nobody.
    await redis.set(`${prefix}chaos`, encodeChange(newChange(faults, 'set')));
    await answers(a, '/api/products', 500, 'replica A to re-read the faults');
    await answers(b, '/api/products', 500, 'replica B to re-read the faults');
  });
});

describe('chaos faults when a replica loses Redis', () => {
  const prefix = `cloudmart-test:${randomBytes(4).toString('hex')}:`;
  let proxy: TcpProxy;
  let a: TestApp;
  let b: TestApp;
  const CANNOT_READ = 'chaos: cannot read the shared faults from redis; keeping the last known faults until it answers';

  before(async () => {
    proxy = await new TcpProxy(Number(new URL(REDIS_URL).port || 6379), new URL(REDIS_URL).hostname).start();
    // A reaches Redis through the proxy, so the test can cut A off while B keeps it.
    a = await startChaosApp({ keyPrefix: prefix, cache: { url: `redis://127.0.0.1:${proxy.port}` } });
    b = await startChaosApp({ keyPrefix: prefix, database: { url: a.database?.url ?? '' } });
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await proxy?.stop();
  });

  test('When Redis goes away, then the replica keeps its last faults and serves; a change made through it meanwhile reaches the others once Redis is back', async () => {
    await put(b, { errorRate: 1, routes: ['/api/products'] });
    await answers(a, '/api/products', 500, 'replica A to apply the fault');

    proxy.set('reset');
    await eventually('replica A to notice Redis is gone', () => a.logs.find((l) => l.msg === CANNOT_READ));
    assert.equal((await request(a.app).get('/api/products').expect(500)).body.error.code, 'CHAOS_INJECTED', 'the last known fault stays on');
    await request(a.app).get('/api/orders').expect(200);

    const off = await clear(a);
    assert.deepEqual(off.active, []);
    assert.ok(a.logs.find((l) => String(l.msg).startsWith('chaos faults cleared on this replica only')));
    await request(a.app).get('/api/products').expect(200);
    await request(b.app).get('/api/products').expect(500);

    proxy.set('pass');
    await answers(b, '/api/products', 200, 'replica B to receive the clear A made while cut off');
    assert.equal((await snapshot(b)).changedAt, off.changedAt);
    await eventually('replica A to say Redis is back', () => a.logs.find((l) => l.msg === 'chaos: redis answers again; this replica shares its faults again'));
    assert.equal(countLogs(a, CANNOT_READ), 1, 'the outage is logged once');
  });
});
