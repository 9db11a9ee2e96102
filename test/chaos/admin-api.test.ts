import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../helpers/wait';
import request from 'supertest';
import type { TestApp } from '../helpers/app';
import { AUTH, metricValue, startChaosApp, TOKEN } from './chaos-app';

describe('chaos endpoint when CHAOS_ENABLED=false', () => {
  let t: TestApp;
  before(async () => {
    t = await startChaosApp({ enabled: false, cache: 'memory' });
  });
  after(() => t.close());

  test('When fault injection is disabled, then the endpoint does not exist and no chaos metric is exposed', async () => {
    for (const method of ['get', 'put', 'delete'] as const) {
      const res = await request(t.app)[method]('/api/admin/chaos').set(AUTH).send({ errorRate: 1 });
      assert.equal(res.status, 404, method);
      assert.equal(res.body.error.code, 'ROUTE_NOT_FOUND');
    }
    assert.equal(await metricValue(t, 'cloudmart_chaos_fault_active', { fault: 'error' }), undefined);
    await request(t.app).get('/api/products').expect(200);
  });
});

describe('chaos endpoint when CHAOS_ENABLED=true', () => {
  let t: TestApp;
  before(async () => {
    t = await startChaosApp({ cache: 'memory' });
  });
  after(() => t.close());

  test('When no token is sent, then 401 with a Bearer challenge; when it is wrong, then 403', async () => {
    const none = await request(t.app).get('/api/admin/chaos').expect(401);
    assert.equal(none.body.error.code, 'UNAUTHORIZED');
    assert.match(String(none.headers['www-authenticate']), /^Bearer /);
    await request(t.app).put('/api/admin/chaos').set('Authorization', `Basic ${TOKEN}`).send({ errorRate: 1 }).expect(401);
    const wrong = await request(t.app).put('/api/admin/chaos').set('Authorization', `Bearer ${TOKEN}x`).send({ errorRate: 1 }).expect(403);
    assert.equal(wrong.body.error.code, 'FORBIDDEN');
    await request(t.app).delete('/api/admin/chaos').set('Authorization', 'Bearer short').expect(403);
    const state = await request(t.app).get('/api/admin/chaos').set(AUTH).expect(200);
    assert.deepEqual(state.body.active, [], 'refused requests changed nothing');
  });

  test('When the body is invalid, then 400 names each problem and the faults stay as they were', async () => {
    const cases: [unknown, string][] = [
      [{ errorRate: 1.5 }, 'body.errorRate'],
      [{ dbErrorRate: -0.1 }, 'body.dbErrorRate'],
      [{ latencyMs: 1e9 }, 'body.latencyMs'],
      [{ dbSlowMs: 10_001 }, 'body.dbSlowMs'],
      [{ eventLoopBlockMs: 1001 }, 'body.eventLoopBlockMs'],
      [{ errorRate: '0.5' }, 'body.errorRate'],
      [{ errorRate: 0.5, explode: true }, 'body'],
      [{ routes: ['/metrics'] }, 'body.routes.0'],
      [{ routes: ['/api/admin/chaos'] }, 'body.routes.0'],
      [{ cacheDown: 'yes' }, 'body.cacheDown'],
      [{ ttlSeconds: 0 }, 'body.ttlSeconds'],
      [[], 'body'],
    ];
    for (const [body, path] of cases) {
      const res = await request(t.app)
        .put('/api/admin/chaos')
        .set(AUTH)
        .send(body as object);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.code, 'VALIDATION_FAILED');
      assert.ok(
        res.body.error.details.some((d: { path: string }) => d.path === path),
        `${JSON.stringify(body)}: ${JSON.stringify(res.body.error.details)}`,
      );
    }
    await request(t.app).put('/api/admin/chaos').set(AUTH).set('Content-Type', 'text/plain').send('errorRate=1').expect(415);
    const state = await request(t.app).get('/api/admin/chaos').set(AUTH).expect(200);
    assert.deepEqual(state.body.active, []);
  });

  test('When faults are PUT, then GET shows them, the gauges say so, one log line records it, and DELETE clears all', async () => {
    const body = { errorRate: 0.25, latencyMs: 5, eventLoopBlockMs: 2, routes: ['/api/products/'], dbSlowMs: 1, dbErrorRate: 0.01, cacheDown: true };
    const put = await request(t.app).put('/api/admin/chaos').set(AUTH).send(body).expect(200);
    assert.deepEqual(put.body.faults, { ...body, routes: ['/api/products'] });
    assert.deepEqual(put.body.active, ['error', 'latency', 'event_loop_block', 'db_slow', 'db_error', 'cache_down']);
    assert.ok(put.body.changedAt);
    const got = await request(t.app).get('/api/admin/chaos').set(AUTH).expect(200);
    assert.deepEqual(got.body, put.body);
    for (const fault of ['error', 'latency', 'event_loop_block', 'db_slow', 'db_error', 'cache_down']) {
      assert.equal(await metricValue(t, 'cloudmart_chaos_fault_active', { fault }), 1, fault);
    }
    const line = t.logs.find((l) => l.msg === 'chaos faults set');
    assert.equal(line?.level, 'info');
    assert.deepEqual((line?.chaos as { routes: string[] }).routes, ['/api/products']);

    // A PUT replaces: what it omits is switched off.
    const replaced = await request(t.app).put('/api/admin/chaos').set(AUTH).send({ latencyMs: 10 }).expect(200);
    assert.deepEqual(replaced.body.active, ['latency']);
    assert.equal(await metricValue(t, 'cloudmart_chaos_fault_active', { fault: 'error' }), 0);
    assert.equal(await metricValue(t, 'cloudmart_chaos_fault_active', { fault: 'latency' }), 1);

    const cleared = await request(t.app).delete('/api/admin/chaos').set(AUTH).expect(200);
    assert.deepEqual(cleared.body.active, []);
    assert.deepEqual(cleared.body.faults.routes, []);
    for (const fault of ['error', 'latency', 'event_loop_block', 'db_slow', 'db_error', 'cache_down']) {
      assert.equal(await metricValue(t, 'cloudmart_chaos_fault_active', { fault }), 0, fault);
    }
    assert.ok(t.logs.find((l) => l.msg === 'chaos faults cleared'));
    assert.equal(t.logs.lines.filter((l) => String(l.msg).startsWith('chaos faults ')).length, 3, 'one line per change');
  });

  test('When a fault has a ttl, then it clears itself when the ttl passes', async () => {
    const put = await request(t.app).put('/api/admin/chaos').set(AUTH).send({ errorRate: 1, ttlSeconds: 1 }).expect(200);
    assert.ok(Date.parse(put.body.expiresAt) - Date.parse(put.body.changedAt) === 1000);
    await eventually('the fault to expire', () => t.logs.find((l) => l.msg === 'chaos faults expired'), { timeoutMs: 5000 });
    const got = await request(t.app).get('/api/admin/chaos').set(AUTH).expect(200);
    assert.deepEqual(got.body.active, []);
    assert.equal(got.body.expiresAt, null);
    assert.ok(t.logs.find((l) => l.msg === 'chaos faults expired'));
    await request(t.app).get('/api/products').expect(200);
  });
});
