import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  amAlerts,
  promAlerts,
  promQuery,
  startAlertmanager,
  startPostgresExporter,
  startPrometheus,
  startRedisExporter,
  watchAlertStates,
  type AlertStateWatch,
  type ManagedProcess,
} from '../helpers/monitoring';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';
import { startServerProcess, type ServerProcess } from '../../testkit/server-process';
import { alertRules, dashboardPromQL, recordingRuleNames } from '../helpers/stack';
import { TcpProxy } from '../helpers/tcp-proxy';
import { requireTool } from '../helpers/tools';
import { startTraffic, type Traffic } from '../helpers/traffic';
import { eventually } from '../helpers/wait';
import { WebhookRecorder } from '../helpers/webhook-recorder';

/**
 * The course's climax, end to end with the project's own rules and Alertmanager
 * config: faults and load make alerts go pending, fire, reach Alertmanager and its
 * receivers (and the DORA incident endpoint), get inhibited by their cause, and
 * resolve. Prometheus evaluates every second; the rules' `for:` durations are theirs.
 */

const TOKEN = 'e2e-chaos-token-0123456789';
// The service asks Alertmanager's webhooks for it; Alertmanager sends it from the project's global http_config.
const WEBHOOK_TOKEN = 'e2e-webhook-token-0123456789';

/** Alerts move on a scale of seconds: poll once a second. */
function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  return eventually(what, fn, { timeoutMs, intervalMs: 1000 });
}

/** Polls until `missing` lists nothing or timeoutMs passes; the last list, for the assertion to name. */
async function settled(missing: () => Promise<string[]>, timeoutMs: number): Promise<string[]> {
  let last: string[] = [];
  await until('nothing missing', async () => ((last = await missing()).length ? undefined : true), timeoutMs).catch(() => undefined);
  return last;
}

describe('alerts end to end: service → Prometheus → Alertmanager → receivers', { timeout: 12 * 60_000 }, () => {
  let database: TestDatabase;
  let exporterProxy: TcpProxy;
  let server: ServerProcess;
  let recorder: WebhookRecorder;
  let alertmanager: ManagedProcess;
  let prometheus: ManagedProcess;
  let pgExporter: ManagedProcess;
  let redisExporter: ManagedProcess;
  let traffic: Traffic | undefined;
  let alertStates: AlertStateWatch | undefined;
  let ready = false;

  const chaos = (method: 'PUT' | 'DELETE', body?: object) =>
    fetch(`${server.url}/api/admin/chaos`, {
      method,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });

  before(async () => {
    // Missing binaries fail CI (CI=true) and skip the tests elsewhere.
    const tools = ['prometheus', 'alertmanager', 'prometheus-postgres-exporter', 'prometheus-redis-exporter'].map((n) => requireTool(n));
    const [promBin, amBin, pgBin, redisBin] = tools;
    if (!promBin || !amBin || !pgBin || !redisBin) return;

    database = await createTestDatabase('e2e');
    server = await startServerProcess({
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: `e2e-${process.pid}:`,
      CHAOS_ENABLED: 'true',
      CHAOS_TOKEN: TOKEN,
      WEBHOOK_TOKEN,
    });
    recorder = await new WebhookRecorder(() => server.url).start();
    alertmanager = await startAlertmanager(amBin, recorder.url, WEBHOOK_TOKEN);
    // The exporter reaches Postgres through a proxy the test can cut: "Postgres
    // unreachable" for the exporter, without stopping the server other tests share.
    exporterProxy = await new TcpProxy(Number(new URL(database.url).port || 5432)).start();
    const dsn = new URL(database.url);
    dsn.port = String(exporterProxy.port);
    dsn.searchParams.set('sslmode', 'disable');
    pgExporter = await startPostgresExporter(pgBin, dsn.toString());
    redisExporter = await startRedisExporter(redisBin, REDIS_URL);
    prometheus = await startPrometheus(promBin, {
      backend: `127.0.0.1:${server.port}`,
      postgres: `127.0.0.1:${pgExporter.port}`,
      redis: `127.0.0.1:${redisExporter.port}`,
      alertmanager: `127.0.0.1:${alertmanager.port}`,
    });
    alertStates = watchAlertStates(prometheus.url);
    ready = true;
  });

  after(async () => {
    alertStates?.stop();
    await traffic?.stop();
    await Promise.allSettled([prometheus?.stop(), alertmanager?.stop(), pgExporter?.stop(), redisExporter?.stop()]);
    await server?.stop();
    await Promise.allSettled([recorder?.stop(), exporterProxy?.stop()]);
    await database?.drop();
  });

  test('When errors and latency are injected under load, then every dashboard and rule query works and the recording rules have data', async (t) => {
    if (!ready) {
      t.skip('monitoring binaries missing');
      return;
    }
    const res = await chaos('PUT', { errorRate: 0.3, latencyMs: 800, routes: ['/api/products'], ttlSeconds: 900 });
    assert.equal(res.status, 200, await res.text());
    traffic = startTraffic({
      baseUrl: server.url,
      paths: ['/api/products', '/api/products/3', '/api/products?category=books', '/api/orders?limit=5'],
      workers: 10,
      maxRequests: 40_000,
      maxMs: 10 * 60_000,
      pauseMs: 20,
    });
    // Orders too, so the business panels have series: one created, two refused.
    const order = (productId: number, quantity: number) =>
      fetch(`${server.url}/api/orders`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ items: [{ productId, quantity }], customerEmail: 'e2e@example.com' }),
      }).then((r) => r.status);
    assert.deepEqual([await order(1, 1), await order(1, 1000), await order(999_999, 1)], [201, 409, 422]);
    await until(
      'backend series in Prometheus',
      async () => {
        const r = await promQuery(prometheus.url, 'sum(rate(http_requests_total{job="backend",status_code="500"}[1m]))');
        return Number(r.data?.result[0]?.value[1] ?? 0) > 0 ? true : undefined;
      },
      60_000,
    );

    const rejected: string[] = [];
    for (const q of dashboardPromQL({ __rate_interval: '1m', route: '/api/products' })) {
      const r = await promQuery(prometheus.url, q.promql);
      if (r.status !== 'success') rejected.push(`${q.dashboard} / ${q.panel}: ${q.promql} → ${r.error}`);
    }
    for (const rule of alertRules()) {
      const r = await promQuery(prometheus.url, rule.expr);
      if (r.status !== 'success') rejected.push(`alert ${rule.alert}: ${r.error}`);
    }
    assert.deepEqual(rejected, [], 'every expression is accepted by the query API');

    // Recording rules have data once their group has evaluated over the traffic.
    const noData = await settled(async () => {
      const names = recordingRuleNames().filter((name) => !/node|container|cpu|memory|filesystem/.test(name));
      const results = await Promise.all(names.map((name) => promQuery(prometheus.url, name)));
      return names.filter((_, i) => !results[i]?.data?.result.length);
    }, 60_000);
    assert.deepEqual(noData, [], 'recording rules with no data');
    // That every panel has data after the traffic it is for: every-alert.e2e.test.ts.
    // The exporters' panels read real series too.
    assert.equal((await promQuery(prometheus.url, 'pg_up')).data?.result[0]?.value[1], '1');
    assert.equal((await promQuery(prometheus.url, 'redis_up')).data?.result[0]?.value[1], '1');
  });

  test('When p95 latency stays above 0.5 s, then HighRequestLatency goes pending, fires and reaches the warning receiver', async (t) => {
    if (!ready) {
      t.skip('monitoring binaries missing');
      return;
    }
    await until('HighRequestLatency firing', async () => (alertStates?.firstSeen.has('HighRequestLatency:firing') ? true : undefined), 4 * 60_000);
    assert.ok(alertStates?.firstSeen.has('HighRequestLatency:pending'), 'pending before firing');
    const delivered = await until('HighRequestLatency delivered', async () => recorder.find('/api/alerts/warning', 'HighRequestLatency', 'firing')[0], 90_000);
    const alert = delivered.payload.alerts.find((a) => a.labels.alertname === 'HighRequestLatency');
    assert.equal(alert?.labels.severity, 'warning');
  });

  test('When the 5xx ratio stays above 10 %, then HTTPErrorRate fires after its 2 m and reaches the critical and DORA receivers', async (t) => {
    if (!ready) {
      t.skip('monitoring binaries missing');
      return;
    }
    await until('HTTPErrorRate firing', async () => (alertStates?.firstSeen.has('HTTPErrorRate:firing') ? true : undefined), 5 * 60_000);
    const pendingAt = alertStates?.firstSeen.get('HTTPErrorRate:pending') ?? 0;
    const firingAt = alertStates?.firstSeen.get('HTTPErrorRate:firing') ?? 0;
    assert.ok(pendingAt > 0 && firingAt - pendingAt >= 115_000, `pending ${Math.round((firingAt - pendingAt) / 1000)} s before firing (for: 2m)`);
    await until('HTTPErrorRate at the critical receiver', async () => recorder.find('/api/alerts/critical', 'HTTPErrorRate', 'firing')[0], 90_000);
    const dora = await until('HTTPErrorRate at the DORA endpoint', async () => recorder.find('/api/dora/alertmanager', 'HTTPErrorRate', 'firing')[0], 90_000);
    assert.equal(dora.forwardedStatus, 200, 'the service accepted the webhook');
    const metrics = (await (await fetch(`${server.url}/api/dora-metrics?days=1`)).json()) as { timeToRestoreService: { openIncidents: number } };
    assert.ok(metrics.timeToRestoreService.openIncidents >= 1, 'an incident is open');
  });

  test('When Postgres is unreachable for the exporter, then DatabaseConnectionFailed fires and inhibits HTTPErrorRate', async (t) => {
    if (!ready) {
      t.skip('monitoring binaries missing');
      return;
    }
    exporterProxy.set('reset');
    await until('pg_up == 0', async () => ((await promQuery(prometheus.url, 'pg_up')).data?.result[0]?.value[1] === '0' ? true : undefined), 30_000);
    await until('DatabaseConnectionFailed firing', async () => (alertStates?.firstSeen.has('DatabaseConnectionFailed:firing') ? true : undefined), 3 * 60_000);
    await until('DatabaseConnectionFailed delivered', async () => recorder.find('/api/alerts/critical', 'DatabaseConnectionFailed', 'firing')[0], 60_000);
    const inhibited = await until(
      'HTTPErrorRate suppressed in Alertmanager',
      async () => {
        const a = (await amAlerts(alertmanager.url)).find((x) => x.labels.alertname === 'HTTPErrorRate');
        return a && a.status.state === 'suppressed' && a.status.inhibitedBy.length > 0 ? a : undefined;
      },
      60_000,
    );
    assert.equal(inhibited.labels.service, 'cloudmart');
    const firingInPrometheus = (await promAlerts(prometheus.url)).some((a) => a.labels.alertname === 'HTTPErrorRate' && a.state === 'firing');
    assert.ok(firingInPrometheus, 'still firing in Prometheus: inhibition is Alertmanager’s job');
  });

  test('When the faults are cleared and Postgres returns, then resolved notifications arrive and the incidents close', async (t) => {
    if (!ready) {
      t.skip('monitoring binaries missing');
      return;
    }
    exporterProxy.set('pass');
    assert.equal((await chaos('DELETE')).status, 200);
    await until('DatabaseConnectionFailed resolved', async () => recorder.find('/api/alerts/critical', 'DatabaseConnectionFailed', 'resolved')[0], 3 * 60_000);
    await until('HTTPErrorRate resolved at the DORA endpoint', async () => recorder.find('/api/dora/alertmanager', 'HTTPErrorRate', 'resolved')[0], 4 * 60_000);
    await traffic?.stop();
    const metrics = (await (await fetch(`${server.url}/api/dora-metrics?days=1`)).json()) as {
      timeToRestoreService: { openIncidents: number; value: number | null };
    };
    assert.equal(metrics.timeToRestoreService.openIncidents, 0, 'every incident closed through Alertmanager');
    assert.ok(metrics.timeToRestoreService.value !== null && metrics.timeToRestoreService.value > 0);
    assert.ok(
      recorder.deliveries.every((d) => d.authorization === `Bearer ${WEBHOOK_TOKEN}`),
      'every delivery carried the webhook token',
    );
    assert.ok(
      recorder.deliveries.every((d) => d.forwardedStatus === 200),
      'the service accepted every delivery',
    );
  });
});
