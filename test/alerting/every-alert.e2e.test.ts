import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import YAML from 'yaml';
import {
  promQuery,
  shortenFor,
  startAlertmanager,
  startPostgresExporter,
  startPrometheus,
  startRedisExporter,
  watchAlertStates,
  type AlertStateWatch,
  type ManagedProcess,
} from '../helpers/monitoring';
import { startOwnPostgres, startOwnRedis, type OwnServer } from '../helpers/own-servers';
import { alertRules, dashboardPromQL, dashboardQueries, dashboards, parseDuration, ruleFiles } from '../helpers/stack';
import { requireTool } from '../helpers/tools';
import { startTraffic, type Traffic } from '../helpers/traffic';
import { eventually } from '../helpers/wait';
import { WebhookRecorder } from '../helpers/webhook-recorder';
import { startServerProcess, type ServerProcess } from '../../testkit/server-process';

/**
 * Every alert rule that can be driven on one machine fires for real, and every dashboard
 * panel that can have data here has it: the service on a PostgreSQL and a Redis of this
 * test's own, scraped with its exporters by the pinned Prometheus on the shipped rules, which
 * notifies the pinned Alertmanager on the shipped config, whose webhooks reach the service.
 *
 * alerts.e2e.test.ts drives HighRequestLatency, HTTPErrorRate and DatabaseConnectionFailed
 * with their full `for:`. Here, to keep the suite's wall time, every `for:` is divided by
 * FOR_DIVISOR in the temporary copy of the rules (1m -> 10s, 2m -> 20s); expressions, labels
 * and annotations are the shipped bytes, which the test checks first.
 *
 * What cannot be driven or shown here, and why, is CANNOT_FIRE_HERE and NO_DATA_HERE below;
 * docs/runbooks.md lists, per rule, which test proves it.
 */

const FOR_DIVISOR = 6;
const TOKEN = 'e2e-every-alert-chaos-token';
const WEBHOOK_TOKEN = 'e2e-every-alert-webhook-token';

/** Rules this test fires, and how. */
const DRIVEN: Record<string, string> = {
  RedisDown: 'Redis stopped (SIGTERM) under the service and redis-exporter',
  HighEventLoopLag: 'chaos eventLoopBlockMs 300 on /api/products/:id, one request at a time',
  ServiceDown: 'the service killed (SIGKILL): its scrape fails',
  ServiceUnavailable: 'the only replica killed: max by (job) (up) == 0',
};

/** Rules alerts.e2e.test.ts fires with their full `for:`. */
const FIRED_ELSEWHERE = ['HighRequestLatency', 'HTTPErrorRate', 'DatabaseConnectionFailed'];

/** Rules on host and container series: only promtool's unit tests (docker/prometheus/tests/) prove them. */
const CANNOT_FIRE_HERE: Record<string, string> = {
  HighCPUUsage: 'node-exporter host CPU above 80 % for 5m: no node-exporter here, and burning the shared CI cores would slow every other test',
  HighMemoryUsage: 'node-exporter host memory below 10 % available: exhausting the CI machine’s memory would take the suite down with it',
  DiskSpaceLow: 'node-exporter filesystem below 10 % free: filling the CI disk harms everything else on it',
  ContainerMemoryNearLimit: 'cAdvisor container series: no container runtime with cAdvisor here',
};

/** Dashboards whose series come from exporters not run here. */
const NO_DATA_HERE: Record<string, string> = {
  host: 'node-exporter series (the host): node-exporter is not installed here',
  containers: 'cAdvisor series: cAdvisor needs a container runtime to read',
};

/** Panels on other datasources than Prometheus: Loki and Elasticsearch are not run here. */
const NOT_PROMETHEUS: Record<string, string> = {
  'cloudmart-red / Backend logs (click trace_id to open Jaeger)': 'Loki: the log pipeline (Promtail/Alloy → Loki) runs in Compose only',
};

function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  return eventually(what, fn, { timeoutMs, intervalMs: 1000 });
}

let postgres: OwnServer;
let redis: OwnServer;
let server: ServerProcess;
let recorder: WebhookRecorder;
let alertmanager: ManagedProcess;
let prometheus: ManagedProcess;
let pgExporter: ManagedProcess;
let redisExporter: ManagedProcess;
const traffic: Traffic[] = [];
let alertStates: AlertStateWatch | undefined;
let ready = false;

before(async () => {
  // Missing binaries fail CI and skip the test elsewhere.
  const [promBin, amBin, pgBin, redisBin] = ['prometheus', 'alertmanager', 'prometheus-postgres-exporter', 'prometheus-redis-exporter'].map((n) =>
    requireTool(n),
  );
  if (!promBin || !amBin || !pgBin || !redisBin) return;
  // The production database name: the Postgres dashboard reads datname="cloudmart".
  [postgres, redis] = await Promise.all([startOwnPostgres('cloudmart'), startOwnRedis()]);
  server = await startServerProcess({
    DATABASE_URL: postgres.url,
    REDIS_URL: redis.url,
    CHAOS_ENABLED: 'true',
    CHAOS_TOKEN: TOKEN,
    WEBHOOK_TOKEN,
  });
  recorder = await new WebhookRecorder(() => server.url).start();
  const dsn = new URL(postgres.url);
  dsn.searchParams.set('sslmode', 'disable');
  [alertmanager, pgExporter, redisExporter] = await Promise.all([
    startAlertmanager(amBin, recorder.url, WEBHOOK_TOKEN),
    startPostgresExporter(pgBin, dsn.toString()),
    startRedisExporter(redisBin, redis.url),
  ]);
  prometheus = await startPrometheus(
    promBin,
    {
      backend: `127.0.0.1:${server.port}`,
      postgres: `127.0.0.1:${pgExporter.port}`,
      redis: `127.0.0.1:${redisExporter.port}`,
      alertmanager: `127.0.0.1:${alertmanager.port}`,
    },
    undefined,
    { forDivisor: FOR_DIVISOR },
  );
  alertStates = watchAlertStates(prometheus.url);
  ready = true;
});

after(async () => {
  alertStates?.stop();
  await Promise.allSettled(traffic.map((t) => t.stop()));
  await Promise.allSettled([prometheus?.stop(), alertmanager?.stop(), pgExporter?.stop(), redisExporter?.stop()]);
  await server?.stop();
  await Promise.allSettled([recorder?.stop(), redis?.remove(), postgres?.remove()]);
});

test('the rules Prometheus runs here are the shipped ones, only their for: divided', () => {
  for (const file of ruleFiles()) {
    const text = readFileSync(file, 'utf8');
    const shipped = YAML.parse(text) as { groups: { rules: Record<string, string>[] }[] };
    const shortened = YAML.parse(shortenFor(text, FOR_DIVISOR)) as typeof shipped;
    const rules = shipped.groups.flatMap((g) => g.rules);
    const ran = shortened.groups.flatMap((g) => g.rules);
    assert.equal(ran.length, rules.length);
    rules.forEach((rule, i) => {
      const { for: shippedFor, ...rest } = rule;
      const { for: ranFor, ...ranRest } = ran[i] ?? {};
      assert.deepEqual(ranRest, rest, `${file}: ${rule.alert ?? rule.record} as shipped`);
      assert.equal(parseDuration(ranFor), parseDuration(shippedFor) / FOR_DIVISOR, `${rule.alert ?? rule.record}: for`);
    });
  }
  const named = [...Object.keys(DRIVEN), ...FIRED_ELSEWHERE, ...Object.keys(CANNOT_FIRE_HERE)].sort();
  assert.deepEqual(
    named,
    alertRules()
      .map((r) => r.alert)
      .sort(),
    'every rule is driven here, driven elsewhere or listed with its reason',
  );
});

test(
  'When Redis stops, the event loop is blocked and the service dies, then RedisDown, HighEventLoopLag, ServiceDown and ServiceUnavailable fire and reach their receivers, and every panel that can have data here has it',
  { timeout: 8 * 60_000 },
  async (t) => {
    if (!ready) {
      t.skip('monitoring binaries missing');
      return;
    }
    const started = Date.now();
    const seconds = () => Math.round((Date.now() - started) / 1000);
    const chaos = (body: object) =>
      fetch(`${server.url}/api/admin/chaos`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const post = (path: string, body: object, token?: string) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      }).then((r) => r.status);
    const delivered = (path: string, alertname: string, status: 'firing' | 'resolved', timeoutMs: number) =>
      until(`${alertname} ${status} at ${path}`, async () => recorder.find(path, alertname, status)[0], timeoutMs);

    // The traffic each dashboard is for: browsing (cache hits and misses), orders (created
    // and refused), a deployment for the DORA keys; alerts below open and close an incident.
    traffic.push(
      startTraffic({
        baseUrl: server.url,
        paths: ['/api/products', '/api/products?category=books', '/api/products?q=e2e', '/api/orders?limit=5'],
        workers: 3,
        maxRequests: 50_000,
        maxMs: 6 * 60_000,
        pauseMs: 50,
      }),
    );
    const order = (productId: number, quantity: number) => post('/api/orders', { items: [{ productId, quantity }], customerEmail: 'e2e@example.com' });
    assert.deepEqual([await order(1, 1), await order(1, 1000), await order(999_999, 1)], [201, 409, 422]);
    const hour = 3600_000;
    const deployment = {
      service: 'cloudmart-backend',
      version: 'e2e-1',
      commitSha: 'abc1234',
      commitTime: new Date(Date.now() - 2 * hour).toISOString(),
      deployedAt: new Date(Date.now() - hour).toISOString(),
    };
    assert.equal(await post('/api/dora/deployments', deployment, WEBHOOK_TOKEN), 201);

    // RedisDown and HighEventLoopLag at once, on the one Prometheus. The block's route also
    // answers some 500s, the traffic the 5xx ratio panels are for.
    const faults = { eventLoopBlockMs: 300, errorRate: 0.2, routes: ['/api/products/:id'], ttlSeconds: 600 };
    const block = await chaos(faults);
    assert.equal(block.status, 200, await block.text());
    // One request at a time, so a scrape never queues behind more than one block.
    traffic.push(
      startTraffic({ baseUrl: server.url, paths: ['/api/products/1', '/api/products/2'], workers: 1, maxRequests: 5000, maxMs: 6 * 60_000, pauseMs: 100 }),
    );
    await redis.stop();

    const [redisDown, incident, lag] = await Promise.all([
      delivered('/api/alerts/critical', 'RedisDown', 'firing', 90_000),
      delivered('/api/dora/alertmanager', 'RedisDown', 'firing', 90_000),
      delivered('/api/alerts/warning', 'HighEventLoopLag', 'firing', 120_000),
    ]);
    assert.equal(redisDown.payload.alerts.find((a) => a.labels.alertname === 'RedisDown')?.labels.instance, `127.0.0.1:${redisExporter.port}`);
    assert.equal(incident.forwardedStatus, 200, 'the service opened the incident');
    assert.equal(lag.payload.alerts.find((a) => a.labels.alertname === 'HighEventLoopLag')?.labels.instance, `127.0.0.1:${server.port}`);
    for (const name of ['RedisDown', 'HighEventLoopLag']) assert.ok(alertStates?.firstSeen.has(`${name}:pending`), `${name} pending before firing`);
    t.diagnostic(`RedisDown and HighEventLoopLag delivered after ${seconds()} s`);

    // Redis back: RedisDown resolves and the DORA incident closes (time to restore). The
    // restarted Redis is empty, and a replica takes "nothing stored" as "no fault on" (see
    // SharedChaosState.adopt), so the block is put again: a firing alert keeps ALERTS for the
    // alerts-overview panels.
    await redis.start();
    await until(
      'the service to clear the fault Redis no longer holds',
      async () => {
        const r = await fetch(`${server.url}/api/admin/chaos`, { headers: { Authorization: `Bearer ${TOKEN}` } });
        return ((await r.json()) as { active: string[] }).active.length === 0 ? true : undefined;
      },
      30_000,
    );
    assert.equal((await chaos(faults)).status, 200);
    const restored = await delivered('/api/dora/alertmanager', 'RedisDown', 'resolved', 90_000);
    assert.equal(restored.forwardedStatus, 200, 'the service closed the incident');
    t.diagnostic(`RedisDown resolved at the DORA endpoint after ${seconds()} s`);

    // Every Prometheus panel of every dashboard that can have data here has it now: the
    // traffic above, firing alerts (ALERTS), an incident opened and closed after a deployment.
    const excluded = new Set(Object.keys(NO_DATA_HERE));
    for (const uid of excluded)
      assert.ok(
        dashboards().some((d) => d.json.uid === uid),
        `dashboard ${uid} exists`,
      );
    const checked = dashboardPromQL().filter((q) => !excluded.has(q.dashboard));
    assert.deepEqual(
      dashboardQueries()
        .filter((q) => q.datasource?.type !== 'prometheus')
        .map((q) => `${q.dashboard} / ${q.panel}`)
        .sort(),
      Object.keys(NOT_PROMETHEUS).sort(),
      'every panel on another datasource is listed with its reason',
    );
    let empty: string[] = [];
    await until(
      'every panel with data',
      async () => {
        const results = await Promise.all(checked.map((q) => promQuery(prometheus.url, q.promql)));
        empty = checked
          .filter((_, i) => !results[i]?.data?.result.some((s) => !Number.isNaN(Number(s.value[1]))))
          .map((q) => `${q.dashboard} / ${q.panel}: ${q.promql}`);
        return empty.length ? undefined : true;
      },
      60_000,
    ).catch(() => undefined);
    assert.deepEqual(empty, [], 'panels with no data');
    const dashboardsChecked = new Set(checked.map((q) => q.dashboard));
    assert.equal(dashboardsChecked.size + excluded.size, dashboards().length, 'every dashboard is checked or listed');
    t.diagnostic(`${checked.length} panel queries of ${dashboardsChecked.size} dashboards have data after ${seconds()} s`);

    // The only replica dies: ServiceDown for its instance, and ServiceUnavailable.
    await Promise.all(traffic.map((tr) => tr.stop()));
    await server.stop('SIGKILL');
    const down = await delivered('/api/alerts/warning', 'ServiceDown', 'firing', 90_000);
    assert.equal(down.payload.alerts.find((a) => a.labels.alertname === 'ServiceDown')?.labels.instance, `127.0.0.1:${server.port}`);
    const unavailable = await delivered('/api/alerts/critical', 'ServiceUnavailable', 'firing', 90_000);
    assert.equal(unavailable.payload.alerts.find((a) => a.labels.alertname === 'ServiceUnavailable')?.labels.severity, 'critical');
    for (const name of ['ServiceDown', 'ServiceUnavailable']) assert.ok(alertStates?.firstSeen.has(`${name}:pending`), `${name} pending before firing`);
    t.diagnostic(`ServiceDown and ServiceUnavailable delivered after ${seconds()} s`);
    assert.ok(
      recorder.deliveries.every((d) => d.authorization === `Bearer ${WEBHOOK_TOKEN}`),
      'every delivery carried the webhook token',
    );
  },
);
