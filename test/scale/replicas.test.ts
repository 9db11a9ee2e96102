/**
 * Scale-out on loopback: three service processes on 127.0.0.2-4 (one port, as three
 * containers of one Compose service), nginx with docker/nginx/nginx.conf in front of
 * them, dnsmasq answering `backend` with one A record per replica as Docker's DNS
 * does, and Prometheus 3 discovering them through the shipped dns_sd_configs with the
 * project's own rules (their `for:` durations untouched).
 *
 * Why a mount namespace and not a network namespace for the DNS server: Prometheus's
 * DNS discovery asks the nameserver in /etc/resolv.conf, so it must see a resolv.conf
 * of its own; a network namespace would also cut it off from the replicas and them from
 * Postgres and Redis on 127.0.0.1. `unshare --mount` gives Prometheus its own
 * resolv.conf while everything stays on the host's loopback.
 *
 * Needs root, nginx, dnsmasq, unshare and Prometheus: skipped with a message without
 * them, failed under CI=true.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promAlerts, promQuery, type ManagedProcess, type PromAlert } from '../helpers/monitoring';
import { createTestDatabase, REDIS_URL, sql, type TestDatabase } from '../../testkit/postgres';
import {
  missingScaleRequirements,
  randomLoopbackAddress,
  startDnsmasq,
  startNginx,
  startPrometheusWithResolver,
  type DnsServer,
  type Nginx,
} from '../helpers/scale';
import { freePort, startServerProcess, type ServerProcess } from '../../testkit/server-process';
import { findTool } from '../helpers/tools';
import { eventually } from '../helpers/wait';
import { underCI } from '../helpers/ci';

const ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const VERSION = '9.9.9-scale';
const COMMIT = 'abcdef0123456789abcdef0123456789abcdef01';
const LOAD_PRODUCT = 1;
const SCARCE_PRODUCT = 2;

interface Load {
  ok: number;
  failed: number;
  failures: string[];
  /** Orders without an Idempotency-Key answered 201; their e-mails start with the load's tag. */
  plainPlaced: number;
  /** The e-mails of orders without a key that were not answered 201, with what came instead. */
  plainFailed: { email: string; outcome: string }[];
  stop(): Promise<void>;
}

type LoadRequest = 'GET' | 'POST keyed' | 'POST plain';

/**
 * Steady requests through the load balancer: product reads, orders with their own
 * Idempotency-Key, and orders without one (which nginx may not replay once a byte reached
 * a replica), each plain order with an e-mail of its own so the test can count what was
 * stored. Bounded by count and time, with a pause per request so two shared cores are not
 * saturated.
 */
function startLoad(baseUrl: string, opts: { tag: string; workers: number; maxRequests: number; maxMs: number; pauseMs: number }): Load {
  if (new URL(baseUrl).hostname !== '127.0.0.1') throw new Error('load only to loopback');
  const deadline = Date.now() + opts.maxMs;
  let sent = 0;
  let stopped = false;
  const load: Load = { ok: 0, failed: 0, failures: [], plainPlaced: 0, plainFailed: [], stop: async () => undefined };
  const email = (w: number, i: number) => `${opts.tag}-${w}-${i}@example.com`;
  const order = (w: number, i: number, key: boolean) =>
    fetch(`${baseUrl}/api/orders`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(key ? { 'Idempotency-Key': `${opts.tag}-${w}-${i}-${process.pid}` } : {}) },
      body: JSON.stringify({ items: [{ productId: LOAD_PRODUCT, quantity: 1 }], customerEmail: email(w, i) }),
      signal: AbortSignal.timeout(5000),
    });
  const worker = async (w: number) => {
    for (let i = 0; !stopped && sent < opts.maxRequests && Date.now() < deadline; i++) {
      sent += 1;
      const kind: LoadRequest = i % 4 === 3 ? 'POST keyed' : i % 4 === 1 ? 'POST plain' : 'GET';
      const request =
        kind === 'GET' ? fetch(`${baseUrl}/api/products/${1 + (i % 5)}`, { signal: AbortSignal.timeout(5000) }) : order(w, i, kind === 'POST keyed');
      // A read answers 200; an order 201, nothing else counts as served.
      const expected = kind === 'GET' ? 200 : 201;
      const outcome = await request.then(
        async (r) => (await r.arrayBuffer(), r.status === expected ? 'ok' : `${kind} ${r.status}`),
        (err: unknown) => `${kind} ${err instanceof Error ? err.message : String(err)}`,
      );
      if (outcome === 'ok') {
        load.ok += 1;
        if (kind === 'POST plain') load.plainPlaced += 1;
      } else {
        load.failed += 1;
        if (load.failures.length < 20) load.failures.push(outcome);
        if (kind === 'POST plain') load.plainFailed.push({ email: email(w, i), outcome });
      }
      await sleep(opts.pauseMs);
    }
  };
  const running = Promise.all(Array.from({ length: opts.workers }, (_, w) => worker(w)));
  load.stop = async () => {
    stopped = true;
    await running;
  };
  return load;
}

/** Waits until `count` more requests of the load have succeeded. */
async function trafficFlowed(load: Load, count: number): Promise<void> {
  const target = load.ok + count;
  await eventually(`${count} more requests through the load balancer`, () => (load.ok >= target ? true : undefined), { timeoutMs: 30_000 });
}

describe('replicas behind the load balancer, discovered by Prometheus through DNS', { timeout: 5 * 60_000 }, () => {
  let database: TestDatabase;
  let dns: DnsServer | undefined;
  let nginx: Nginx | undefined;
  let prometheus: ManagedProcess | undefined;
  let port = 0;
  const replicas = new Map<string, ServerProcess>();
  const seenAlerts: PromAlert[] = [];
  let watcher: NodeJS.Timeout | undefined;
  let skipReason: string | undefined;

  const env = () => ({
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: `scale-${process.pid}:`,
    PORT: String(port),
    SERVICE_VERSION: VERSION,
    GIT_COMMIT_SHA: COMMIT,
    GIT_COMMIT_TIME: '2026-01-01T00:00:00Z',
  });
  const startReplica = async (address: string) => {
    const p = await startServerProcess({ ...env(), HOST: address });
    replicas.set(address, p);
    return p;
  };
  const replicaUrl = (address: string) => `http://${address}:${port}`;

  before(async () => {
    const missing = missingScaleRequirements();
    if (missing.length) {
      skipReason = `needs ${missing.join(', ')}`;
      if (underCI()) throw new Error(`${skipReason}; CI requires them`);
      return;
    }
    database = await createTestDatabase('scale');
    port = await freePort();
    // Every replica starts at once against a fresh database: migrations and the
    // DORA deployment race exactly as when Compose starts a scaled service.
    await Promise.all(ADDRESSES.map((a) => startReplica(a)));
    dns = await startDnsmasq(findTool('dnsmasq') ?? 'dnsmasq', randomLoopbackAddress(), 'backend', ADDRESSES);
    nginx = await startNginx(findTool('nginx') ?? 'nginx', { resolver: dns.address, backend: `backend:${port}` });
    prometheus = await startPrometheusWithResolver(findTool('prometheus') ?? 'prometheus', dns.address, port);
    await sql(database.url, 'UPDATE products SET stock = 1000000 WHERE id = $1', [LOAD_PRODUCT]);
  });

  after(async () => {
    clearInterval(watcher);
    await Promise.allSettled([prometheus?.stop(), nginx?.stop()]);
    await Promise.allSettled([...replicas.values()].map((r) => r.stop()));
    await dns?.stop();
    await database?.drop();
  });

  test('When three replicas start together, then the DORA deployment is recorded once', async (t) => {
    if (skipReason) {
      t.skip(skipReason);
      return;
    }
    const rows = await sql<{ n: string }>(database.url, 'SELECT count(*) AS n FROM dora_deployments WHERE version = $1', [VERSION]);
    assert.equal(Number(rows[0]?.n), 1);
    const said = (msg: string) => [...replicas.values()].filter((r) => r.logs.some((l) => l.msg === msg)).length;
    assert.equal(said('DORA: deployment recorded'), 1, 'one replica recorded it');
    assert.equal(said('DORA: this version is already recorded as a deployment'), 2, 'the others found it');
  });

  test('When Prometheus reads the shipped config, then DNS discovery yields every replica as its own instance', async (t) => {
    if (skipReason || !prometheus) {
      t.skip(skipReason);
      return;
    }
    const prom = prometheus;
    const instances = await eventually(
      'three backend targets up',
      async () => {
        const r = await promQuery(prom.url, 'up{job="backend"} == 1');
        const found = (r.data?.result ?? []).map((s) => s.metric.instance ?? '').sort();
        return found.length === 3 ? found : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    assert.deepEqual(
      instances,
      ADDRESSES.map((a) => `${a}:${port}`),
    );
    // From here on every alert state is recorded. Not before: until the first DNS answer
    // and scrape, absent(up) holds and ServiceUnavailable is rightly pending for a moment.
    watcher = setInterval(() => {
      void promAlerts(prom.url).then(
        (alerts) => seenAlerts.push(...alerts),
        () => undefined,
      );
    }, 500);
  });

  test('When orders for scarce stock arrive through different replicas, then none oversells', async (t) => {
    if (skipReason) {
      t.skip(skipReason);
      return;
    }
    const STOCK = 8;
    await sql(database.url, 'UPDATE products SET stock = $2 WHERE id = $1', [SCARCE_PRODUCT, STOCK]);
    // Customer i orders one unit through replica i mod 3.
    const order = (i: number) =>
      fetch(`${replicaUrl(ADDRESSES[i % ADDRESSES.length] ?? '')}/api/orders`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ items: [{ productId: SCARCE_PRODUCT, quantity: 1 }], customerEmail: `scarce${i}@example.com` }),
      }).then(async (r) => (await r.arrayBuffer(), r.status));
    // Three customers per unit, sent at once, one after another to each replica in turn.
    const results = await Promise.all(Array.from({ length: STOCK * 3 }, (_, i) => order(i)));
    t.diagnostic(`statuses: ${results.join(',')}`);
    // 409 = out of stock; 503 = the database was too slow under the lock queue (nothing written, retry later).
    assert.deepEqual(
      results.filter((s) => ![201, 409, 503].includes(s)),
      [],
      `statuses: ${results.join(',')}`,
    );
    // Each 503 is retried as its client would, one at a time, so every customer ends with 201 or 409.
    const retried: number[] = [];
    for (const [i, status] of results.entries()) {
      if (status === 503) retried.push(await order(i));
    }
    t.diagnostic(`retried: ${retried.join(',')}`);
    assert.deepEqual(
      retried.filter((s) => ![201, 409].includes(s)),
      [],
      `retried: ${retried.join(',')}`,
    );
    const created = [...results, ...retried].filter((s) => s === 201).length;
    const rows = await sql<{ stock: number }>(database.url, 'SELECT stock FROM products WHERE id = $1', [SCARCE_PRODUCT]);
    const orders = await sql<{ n: string }>(
      database.url,
      "SELECT count(*) AS n FROM order_items i JOIN orders o ON o.id = i.order_id WHERE i.product_id = $1 AND o.customer_email LIKE 'scarce%'",
      [SCARCE_PRODUCT],
    );
    assert.equal(rows[0]?.stock, STOCK - created, 'stock fell by exactly the orders confirmed');
    assert.equal(Number(orders[0]?.n), created, 'one stored order per 201');
    // Three customers per unit, each answered 201 or 409 (refused only once sold out): every unit is
    // sold, none twice.
    assert.equal(created, STOCK, `all stock sold, none oversold: ${created} confirmed of ${STOCK}`);
    assert.equal(rows[0]?.stock, 0);
  });

  test('When an order is retried with its Idempotency-Key on another replica, then the first order comes back', async (t) => {
    if (skipReason) {
      t.skip(skipReason);
      return;
    }
    const place = (address: string) =>
      fetch(`${replicaUrl(address)}/api/orders`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': `scale-retry-${process.pid}` },
        body: JSON.stringify({ items: [{ productId: LOAD_PRODUCT, quantity: 2 }], customerEmail: 'retry@example.com' }),
      });
    const first = await place(ADDRESSES[0] ?? '');
    assert.equal(first.status, 201);
    const firstBody = (await first.json()) as { id: number };
    for (const other of ADDRESSES.slice(1)) {
      const retry = await place(other);
      assert.equal(retry.status, 201);
      assert.equal(retry.headers.get('idempotent-replayed'), 'true', `replayed by ${other}`);
      assert.deepEqual(await retry.json(), firstBody);
    }
    const rows = await sql<{ n: string }>(database.url, 'SELECT count(*) AS n FROM orders WHERE id = $1', [firstBody.id]);
    assert.equal(Number(rows[0]?.n), 1);
    // Without a key, through the load balancer (the location that never replays it): placed once.
    const email = `nokey-${process.pid}@example.com`;
    const plain = await fetch(`${nginx?.url ?? ''}/api/orders`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ items: [{ productId: LOAD_PRODUCT, quantity: 1 }], customerEmail: email }),
    });
    assert.equal(plain.status, 201);
    const placed = await sql<{ n: string }>(database.url, 'SELECT count(*) AS n FROM orders WHERE customer_email = $1', [email]);
    assert.equal(Number(placed[0]?.n), 1);
  });

  test('When one replica is killed under load, then the load balancer keeps serving and ServiceDown fires for that instance only', async (t) => {
    if (skipReason || !nginx || !prometheus) {
      t.skip(skipReason);
      return;
    }
    const prom = prometheus;
    const victim = ADDRESSES[1] ?? '';
    const load = startLoad(nginx.url, { tag: 'kill', workers: 4, maxRequests: 20_000, maxMs: 120_000, pauseMs: 20 });
    let stopped = false;
    try {
      await trafficFlowed(load, 200);
      await replicas.get(victim)?.stop('SIGKILL');
      const started = Date.now();
      // The rule's own `for: 1m`: about a minute after the last good scrape.
      const firing = await eventually(
        'ServiceDown firing',
        async () => {
          const alerts = await promAlerts(prom.url);
          const f = alerts.filter((a) => a.labels.alertname === 'ServiceDown' && a.state === 'firing');
          return f.length ? f : undefined;
        },
        { timeoutMs: 100_000, intervalMs: 1000 },
      );
      await load.stop();
      stopped = true;
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      t.diagnostic(`kill one replica: ${load.ok} requests served, ${load.failed} failed through the load balancer; ServiceDown fired after ${seconds} s`);
      console.log(`kill one of three replicas: ${load.ok} ok, ${load.failed} failed${load.failures.length ? ` (${load.failures.join('; ')})` : ''}`);
      assert.deepEqual(
        firing.map((a) => a.labels.instance),
        [`${victim}:${port}`],
      );
      assert.equal(firing[0]?.labels.severity, 'warning');
      assert.ok(load.ok > 500, `load ran: ${load.ok} requests`);
      // Reads and keyed orders are retried on another replica, so none should fail; the
      // bound is the 4 requests in flight at the kill.
      assert.ok(load.failed <= 4, `failed requests bounded by the 4 in flight at the kill: ${load.failed}`);
      const others = seenAlerts.filter((a) => a.labels.alertname === 'ServiceDown' && a.labels.instance !== `${victim}:${port}`);
      assert.deepEqual(others, [], 'no ServiceDown for the surviving replicas');
      assert.deepEqual(
        seenAlerts.filter((a) => a.labels.alertname === 'ServiceUnavailable'),
        [],
        'the whole-service rule stays quiet',
      );
      // nginx's own log: every replica answered before the kill, and requests the dead
      // one refused were answered by another ("dead, alive" in upstream_addr).
      const log = nginx.accessLog().filter((l) => String(l.uri).startsWith('/api/'));
      const answeredBy = new Set(log.map((l) => String(l.upstream_addr).split(', ').pop()));
      for (const a of ADDRESSES) assert.ok(answeredBy.has(`${a}:${port}`), `${a} served through the load balancer`);
      const retried = log.filter((l) => String(l.upstream_addr).startsWith(`${victim}:${port}, `) && l.status !== 502).length;
      t.diagnostic(`requests nginx retried on another replica after the dead one refused: ${retried}`);
      assert.ok(retried > 0, 'the dead replica was tried and the request passed on');
      // The surviving replicas served the load; the dead one stopped counting.
      const served = await promQuery(prom.url, 'sum by (instance) (increase(http_requests_total{job="backend",route="/api/products/:id"}[30s]))');
      const busy = (served.data?.result ?? [])
        .filter((s) => Number(s.value[1]) > 0)
        .map((s) => s.metric.instance)
        .sort();
      assert.deepEqual(
        busy,
        ADDRESSES.filter((a) => a !== victim).map((a) => `${a}:${port}`),
      );
    } finally {
      if (!stopped) await load.stop();
    }
    await startReplica(victim);
    await eventually(
      'ServiceDown resolved after the restart',
      async () => ((await promAlerts(prom.url)).some((a) => a.labels.alertname === 'ServiceDown') ? undefined : true),
      { timeoutMs: 20_000, intervalMs: 500 },
    );
  });

  test('When the replicas are restarted one at a time under load (SIGTERM, start again), then every read and keyed order succeeds, and an order without a key succeeds or gets a 502 and is not placed', async (t) => {
    if (skipReason || !nginx) {
      t.skip(skipReason);
      return;
    }
    const load = startLoad(nginx.url, { tag: 'rolling', workers: 4, maxRequests: 20_000, maxMs: 90_000, pauseMs: 20 });
    const exits: Array<number | null> = [];
    try {
      await trafficFlowed(load, 100);
      for (const address of ADDRESSES) {
        exits.push(await (replicas.get(address)?.stop('SIGTERM') ?? null));
        await startReplica(address);
        await eventually(
          'replica ready',
          () =>
            fetch(`${replicaUrl(address)}/health/ready`).then(
              (r) => (r.ok ? true : undefined),
              () => undefined,
            ),
          {
            timeoutMs: 10_000,
            intervalMs: 100,
          },
        );
        // Requests keep flowing through the new set before the next replica goes.
        await trafficFlowed(load, 100);
      }
    } finally {
      await load.stop();
    }
    console.log(`rolling restart of three replicas: ${load.ok} ok, ${load.failed} failed${load.failures.length ? ` (${load.failures.join('; ')})` : ''}`);
    assert.deepEqual(exits, [0, 0, 0], 'each replica shut down cleanly');
    assert.ok(load.ok > 200, `load ran: ${load.ok} requests`);
    // What nginx said of each failure: a refused connect is retried and says nothing of one.
    const upstreamErrors = nginx.output.filter((l) => l.includes('[error]') && !l.includes('Connection refused')).slice(-5);
    const why = `${load.failures.join('; ')}\nnginx: ${upstreamErrors.join('\n')}`;
    // Every read 200 and every keyed order 201: nginx replays those on another replica. A
    // draining replica answers what it accepted (test/server/drain.test.ts, connection by
    // connection). What it cannot answer is a connection the kernel queued in the instant
    // before the listener closed: close() resets those, and nginx may not replay an order
    // without a key. Such an order gets a 502 and is not placed, so its client can send it
    // again; at most one per restart, or something else is dropping requests.
    assert.equal(load.failed, load.plainFailed.length, `only orders without a key may fail: ${why}`);
    assert.ok(load.plainFailed.length <= ADDRESSES.length, `at most one reset per restart: ${why}`);
    assert.deepEqual(
      load.plainFailed.map((f) => f.outcome),
      load.plainFailed.map(() => 'POST plain 502'),
      why,
    );
    if (load.plainFailed.length) console.log(`orders without a key refused with 502 as a listener closed: ${load.plainFailed.length}`);
    const refusedStored = await sql<{ n: string }>(database.url, 'SELECT count(*) AS n FROM orders WHERE customer_email = ANY($1)', [
      load.plainFailed.map((f) => f.email),
    ]);
    assert.equal(Number(refusedStored[0]?.n), 0, 'an order answered 502 was not placed');
    assert.ok(load.plainPlaced > 50, `orders without a key ran: ${load.plainPlaced}`);
    // None placed twice: one stored order per 201, and no e-mail (one per request) with two.
    const stored = await sql<{ orders: string; emails: string }>(
      database.url,
      "SELECT count(*) AS orders, count(DISTINCT customer_email) AS emails FROM orders WHERE customer_email LIKE 'rolling-%' AND idempotency_key IS NULL",
    );
    assert.equal(Number(stored[0]?.orders), load.plainPlaced, 'one stored order per 201');
    assert.equal(Number(stored[0]?.emails), load.plainPlaced, 'no order placed twice');
  });
});
