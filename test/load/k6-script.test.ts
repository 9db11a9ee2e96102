/**
 * load/k6.js runs in k6, which this machine does not have. Checked here instead by
 * running it in a Node vm against a recording stand-in for k6's http module: its
 * scenarios must match load/scenarios.ts, and every request it would send must pass
 * the service's own input schemas.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import vm from 'node:vm';
import { scenarios, SCENARIO_NAMES } from '../../load/scenarios';
import { idParam, orderRequest, productListQuery } from '../../src/domain/schemas';
import { ROOT } from '../../testkit/server-process';

interface Sent {
  method: string;
  url: string;
  body: string | null;
}

interface K6Script {
  options: { scenarios: Record<string, { executor: string; rate?: number; vus?: number; preAllocatedVUs?: number; duration: string; exec: string }> };
  setup(): unknown;
  teardown(data: unknown): void;
  browse(data: unknown): void;
  checkout(data: unknown): void;
}

const source = readFileSync(path.join(ROOT, 'load/k6.js'), 'utf8');
const catalog = Array.from({ length: 50 }, (_, i) => ({ id: i + 1, name: `Fine Product ${i}`, category: ['books', 'home'][i % 2] }));

function load(env: Record<string, string>): { script: K6Script; sent: Sent[] } {
  const sent: Sent[] = [];
  const respond = (method: string, url: string, body: string | null) => {
    sent.push({ method, url, body });
    const payload = url.endsWith('/api/products?limit=100') ? { data: catalog } : { active: [] };
    return { status: 200, body: JSON.stringify(payload), json: (key?: string) => (key ? (payload as Record<string, unknown>)[key] : payload) };
  };
  const http = {
    get: (url: string) => respond('GET', url, null),
    post: (url: string, body: string) => respond('POST', url, body),
    request: (method: string, url: string, body: string | null) => respond(method, url, body),
    setResponseCallback: () => undefined,
    expectedStatuses: () => undefined,
  };
  const body = source.replace(/^import .*$/gm, '').replace(/^export (function|const) /gm, '$1 ');
  const fn = vm.runInNewContext(`(function (http, check, fail, __ENV, console) {${body}\nreturn { options, setup, teardown, browse, checkout };})`) as (
    ...args: unknown[]
  ) => K6Script;
  const fail = (msg: string) => {
    throw new Error(msg);
  };
  return { script: fn(http, () => true, fail, env, { log: () => undefined }), sent };
}

test('k6.js: each scenario has the shape, pace and duration of its npm run load twin', () => {
  for (const name of SCENARIO_NAMES) {
    const twin = scenarios[name];
    const { script } = load({ SCENARIO: name, CHAOS_TOKEN: 'x'.repeat(16) });
    const s = script.options.scenarios[name];
    assert.ok(s, name);
    assert.equal(s.duration, `${twin.durationSeconds}s`, name);
    assert.equal(s.exec, name === 'checkout' ? 'checkout' : 'browse', name);
    if (twin.rate) {
      assert.equal(s.executor, 'constant-arrival-rate', name);
      assert.equal(s.rate, twin.rate, name);
      assert.equal(s.preAllocatedVUs, twin.connections, name);
    } else {
      assert.equal(s.executor, 'constant-vus', name);
      assert.equal(s.vus, twin.connections, name);
    }
  }
  assert.throws(() => load({ SCENARIO: 'nope' }), /unknown SCENARIO/);
  assert.throws(() => load({ SCENARIO: 'errors' }), /set CHAOS_TOKEN/);
  assert.throws(() => load({ SCENARIO: 'browse', DURATION: '11m' }), /at most 10m/);
  assert.equal(load({ SCENARIO: 'spike', DURATION: '20s' }).script.options.scenarios.spike?.duration, '20s');
});

test('k6.js: errors switches the fault on in setup() with a ttl and off in teardown()', () => {
  const { script, sent } = load({ SCENARIO: 'errors', CHAOS_TOKEN: 'x'.repeat(16), BASE_URL: 'http://127.0.0.1:3000/' });
  const data = script.setup();
  const put = sent.find((r) => r.method === 'PUT');
  assert.equal(put?.url, 'http://127.0.0.1:3000/api/admin/chaos');
  assert.deepEqual(JSON.parse(put?.body ?? '{}'), { errorRate: 0.5, ttlSeconds: 300 });
  script.teardown(data);
  assert.equal(sent.at(-1)?.method, 'DELETE');
});

test('k6.js: every browse request and order it sends is valid input for the service', () => {
  const { script, sent } = load({ SCENARIO: 'checkout' });
  const data = script.setup();
  sent.length = 0;
  for (let i = 0; i < 300; i++) script.browse(data);
  for (let i = 0; i < 300; i++) script.checkout(data);
  const kinds = new Set<string>();
  for (const r of sent) {
    const url = new URL(r.url);
    assert.equal(url.origin, 'http://backend:3000');
    if (r.method === 'POST') {
      assert.equal(url.pathname, '/api/orders');
      const order = orderRequest.parse(JSON.parse(r.body ?? ''));
      assert.ok(order.items.length >= 1 && order.items.length <= 4);
      assert.equal(new Set(order.items.map((i) => i.productId)).size, order.items.length, 'distinct products');
      kinds.add('order');
    } else if (url.pathname === '/api/products') {
      productListQuery.parse(Object.fromEntries(url.searchParams));
      kinds.add(url.searchParams.has('q') ? 'search' : url.searchParams.has('category') ? 'category' : 'list');
    } else {
      const id = /^\/api\/products\/(\d+)$/.exec(url.pathname)?.[1];
      assert.ok(id && idParam.parse(id) <= 50, r.url);
      kinds.add('detail');
    }
  }
  assert.deepEqual([...kinds].sort(), ['category', 'detail', 'list', 'order', 'search']);
});
