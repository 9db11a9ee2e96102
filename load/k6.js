// The load scenarios of `npm run load` (load/scenarios.ts) as a k6 script, for the
// Compose `load` profile:
//   SCENARIO=errors CHAOS_TOKEN=... docker compose -f compose/compose.yaml --profile load run --rm k6
// Environment: BASE_URL (default http://backend:3000), SCENARIO (browse | checkout |
// spike | errors | slow, default browse), DURATION (e.g. 2m; default per scenario),
// CHAOS_TOKEN (errors and slow switch a fault on in setup() and off in teardown(),
// which k6 also runs after a first Ctrl-C; the fault's ttl covers a k6 that is killed).
import http from 'k6/http';
import { check, fail } from 'k6';

const BASE_URL = (__ENV.BASE_URL || 'http://backend:3000').replace(/\/+$/, '');
const SCENARIO = __ENV.SCENARIO || 'browse';
const CHAOS_TOKEN = __ENV.CHAOS_TOKEN || '';

// Same shapes and defaults as load/scenarios.ts.
const SCENARIOS = {
  browse: { exec: 'browse', duration: '30s', executor: 'constant-arrival-rate', rate: 50, vus: 10 },
  checkout: { exec: 'checkout', duration: '30s', executor: 'constant-arrival-rate', rate: 10, vus: 5 },
  spike: { exec: 'browse', duration: '10s', executor: 'constant-vus', vus: 100 },
  errors: { exec: 'browse', duration: '240s', executor: 'constant-arrival-rate', rate: 50, vus: 10, fault: { errorRate: 0.5 } },
  slow: { exec: 'browse', duration: '150s', executor: 'constant-vus', vus: 10, fault: { latencyMs: 800 } },
};

const chosen = SCENARIOS[SCENARIO];
if (!chosen) throw new Error(`unknown SCENARIO "${SCENARIO}"; one of ${Object.keys(SCENARIOS).join(', ')}`);
if (chosen.fault && !CHAOS_TOKEN) throw new Error(`SCENARIO=${SCENARIO} switches a fault on: set CHAOS_TOKEN`);
const duration = __ENV.DURATION || chosen.duration;

function secondsOf(d) {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(d);
  if (!m) throw new Error(`DURATION "${d}": use 45s, 2m or 90`);
  const n = Number(m[1]);
  return { ms: n / 1000, s: n, m: n * 60, h: n * 3600 }[m[2] || 's'];
}
if (secondsOf(duration) > 600) throw new Error('DURATION is at most 10m');

const executor =
  chosen.executor === 'constant-arrival-rate'
    ? { executor: 'constant-arrival-rate', rate: chosen.rate, timeUnit: '1s', duration, preAllocatedVUs: chosen.vus, maxVUs: chosen.vus * 5 }
    : { executor: 'constant-vus', vus: chosen.vus, duration };

export const options = {
  scenarios: { [SCENARIO]: { ...executor, exec: chosen.exec } },
  setupTimeout: '30s',
  teardownTimeout: '30s',
  summaryTrendStats: ['avg', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
};

// Out of stock (409) is a normal answer to an order, not a failed request.
http.setResponseCallback(http.expectedStatuses({ min: 200, max: 399 }, 409));

function chaos(method, body) {
  const res = http.request(method, `${BASE_URL}/api/admin/chaos`, body ? JSON.stringify(body) : null, {
    headers: { Authorization: `Bearer ${CHAOS_TOKEN}`, 'Content-Type': 'application/json' },
    tags: { name: 'chaos' },
  });
  if (res.status !== 200) fail(`${method} /api/admin/chaos answered ${res.status}: ${res.body}`);
  return res.json();
}

export function setup() {
  const res = http.get(`${BASE_URL}/api/products?limit=100`);
  if (res.status !== 200) fail(`cannot read the catalog from ${BASE_URL}: ${res.status}`);
  const products = res.json('data');
  const words = {};
  for (const p of products) for (const w of p.name.toLowerCase().split(/[^a-z]+/)) if (w.length >= 4) words[w] = true;
  const catalog = {
    ids: products.map((p) => p.id),
    categories: [...new Set(products.map((p) => p.category))],
    words: Object.keys(words),
  };
  if (chosen.fault) {
    chaos('PUT', { ...chosen.fault, ttlSeconds: Math.ceil(secondsOf(duration)) + 60 });
    console.log(`fault on: ${JSON.stringify(chosen.fault)}`);
  }
  return catalog;
}

export function teardown() {
  if (!chosen.fault) return;
  const state = chaos('DELETE');
  console.log(state.active.length === 0 ? 'fault off' : `fault still on: ${JSON.stringify(state.active)}`);
}

const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];

function weighted(choices) {
  const total = choices.reduce((s, c) => s + c[1], 0);
  let r = Math.random() * total;
  for (const [value, w] of choices) {
    r -= w;
    if (r < 0) return value;
  }
  return choices[choices.length - 1][0];
}

export function browse(c) {
  // `name` groups URLs by route so k6's summary is not one line per product id.
  const [path, name] = weighted([
    [['/api/products', 'list'], 20],
    [[`/api/products?limit=${pick([10, 20, 50])}&offset=${pick([0, 0, 10, 20, 40])}`, 'page'], 15],
    [[`/api/products?q=${encodeURIComponent(pick(c.words))}`, 'search'], 20],
    [[`/api/products?category=${encodeURIComponent(pick(c.categories))}`, 'category'], 20],
    [[`/api/products/${pick(c.ids)}`, 'detail'], 25],
  ]);
  const res = http.get(`${BASE_URL}${path}`, { tags: { name } });
  check(res, { 'answered 2xx': (r) => r.status >= 200 && r.status < 300 });
}

export function checkout(c) {
  const count = Math.min(
    weighted([
      [1, 50],
      [2, 30],
      [3, 15],
      [4, 5],
    ]),
    c.ids.length,
  );
  const ids = new Set();
  while (ids.size < count) ids.add(pick(c.ids));
  const items = [...ids].map((productId) => ({
    productId,
    quantity: weighted([
      [1, 70],
      [2, 20],
      [3, 7],
      [5, 3],
    ]),
  }));
  const body = JSON.stringify({ items, customerEmail: `shopper${Math.floor(Math.random() * 500) + 1}@example.com` });
  const res = http.post(`${BASE_URL}/api/orders`, body, { headers: { 'Content-Type': 'application/json' }, tags: { name: 'order' } });
  check(res, { 'order placed or out of stock': (r) => r.status === 201 || r.status === 409 });
}
