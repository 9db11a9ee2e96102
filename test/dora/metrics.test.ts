/**
 * GET /api/dora-metrics and the /metrics gauges on a fixture fed in through the real
 * endpoints, at known times before a pinned "now". Expected values are worked out by
 * hand in the comments.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import request from 'supertest';
import type { DoraModule } from '../../src/dora';
import type { TestApp } from '../helpers/app';
import { seriesFrom } from '../helpers/metrics-text';
import { sql } from '../../testkit/postgres';
import { requireTool } from '../helpers/tools';
import { eventually } from '../helpers/wait';
import { alertmanagerBody, dbUrl, startDoraApp, type AlertFixture } from './dora-app';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

// Whole seconds, so the pinned clock and Postgres' microseconds agree exactly.
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000 - HOUR);
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

/** The series of `name` with exactly these labels (window 30d unless given), or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries({ window: '30d', ...labels });
  return seriesFrom(text, name).find((s) => Object.keys(s.labels).length === wanted.length && wanted.every(([k, v]) => s.labels[k] === v))?.value;
}

async function loadFixture(t: TestApp): Promise<void> {
  const deployments = [
    { version: 'A', deployedAt: ago(1 * DAY), commitTime: ago(1 * DAY + 2 * HOUR) }, // lead 2 h
    { version: 'B', deployedAt: ago(2 * DAY), commitTime: ago(2 * DAY + 4 * HOUR) }, // lead 4 h
    { version: 'C', deployedAt: ago(3 * DAY), commitTime: null }, // recorded by the service itself, no commit time
    { version: 'D', deployedAt: ago(10 * DAY), commitTime: ago(10 * DAY + 30 * HOUR) }, // lead 30 h
    { version: 'E', deployedAt: ago(40 * DAY), commitTime: ago(40 * DAY + 1 * HOUR) }, // previous window, lead 1 h
    { version: 'F', deployedAt: ago(30 * DAY), commitTime: ago(30 * DAY + 5 * HOUR) }, // exactly 30 days: previous, lead 5 h
  ];
  for (const d of deployments) {
    if (d.commitTime === null) {
      await sql(dbUrl(t), "INSERT INTO dora_deployments (service, version, deployed_at, source) VALUES ('cloudmart-backend', $1, $2, 'self')", [
        d.version,
        d.deployedAt,
      ]);
      continue;
    }
    await request(t.app)
      .post('/api/dora/deployments')
      .send({ service: 'cloudmart-backend', version: d.version, commitSha: 'abc1234', commitTime: d.commitTime, deployedAt: d.deployedAt })
      .expect(201);
  }
  const alerts: AlertFixture[] = [
    // after B: 30 min outage
    { status: 'resolved', fingerprint: 'f1', startsAt: ago(2 * DAY - HOUR), endsAt: ago(2 * DAY - HOUR - 30 * MIN) },
    // also after B (B failed once, though it caused two incidents): 90 min
    { status: 'resolved', fingerprint: 'f2', startsAt: ago(2 * DAY - 3 * HOUR), endsAt: ago(2 * DAY - 3 * HOUR - 90 * MIN) },
    // after A, still firing: A failed, the incident is open
    { fingerprint: 'f3', startsAt: ago(HOUR) },
    // previous window, after E: 10 min
    { status: 'resolved', fingerprint: 'f4', startsAt: ago(35 * DAY), endsAt: ago(35 * DAY - 10 * MIN) },
    // a warning is no incident
    { fingerprint: 'f5', severity: 'warning', startsAt: ago(5 * DAY) },
  ];
  const res = await request(t.app).post('/api/dora/alertmanager').send(alertmanagerBody(alerts)).expect(200);
  assert.deepEqual(res.body, { opened: 1, resolved: 3, ignored: 1 });
}

describe('DORA metrics on a known history', () => {
  let t: TestApp;
  let dora: DoraModule;
  before(async () => {
    ({ t, dora } = await startDoraApp({ now: () => NOW, metricsTtlMs: 0 }));
    await loadFixture(t);
  });
  after(() => t.close());

  test('When the metrics are read for 30 days, then each key matches the hand computation', async () => {
    const res = await request(t.app).get('/api/dora-metrics').expect(200);
    assert.deepEqual(res.body, {
      period: { days: 30, from: ago(30 * DAY), to: NOW.toISOString() },
      // A, B, C, D in the window (F sits on its open start): 4 / 30 = 0.133/day; previous E, F: 2 / 30 = 0.067 → +100 %.
      // Day slots 1, 2, 3, 10 → weeks [3, 1, 0, 0, 0]: neither daily nor weekly; the one 30-day month has deployments → monthly.
      deploymentFrequency: {
        value: 0.133,
        unit: 'per_day',
        deployments: 4,
        period: 'monthly',
        rating: 'medium',
        trend: { previous: 0.067, changePercent: 100 },
      },
      // Lead times 2, 4, 30 h (C has no commit time) → median 4 h, p95 = 4 + 0.9 × 26 = 27.4 h; previous 1 h and 5 h → 3 h.
      leadTimeForChanges: { value: 4, unit: 'hours', p50: 4, p95: 27.4, rating: 'elite', trend: { previous: 3, changePercent: 33.3 } },
      // A (open incident) and B (two incidents) failed: 2 / 4 = 50 % → low; previous E of E, F: 50 % → 0 % change.
      changeFailureRate: { value: 50, unit: 'percent', failedDeployments: 2, deployments: 4, rating: 'low', trend: { previous: 50, changePercent: 0 } },
      // Restored in 30 and 90 min → median 60 min (exactly 1 h: high), p95 = 30 + 0.95 × 60 = 87 min; f3 is open; previous 10 min.
      timeToRestoreService: { value: 60, unit: 'minutes', p50: 60, p95: 87, openIncidents: 1, rating: 'high', trend: { previous: 10, changePercent: 500 } },
    });
  });

  test('When a shorter window is asked for, then only its events count', async () => {
    const res = await request(t.app).get('/api/dora-metrics?days=2').expect(200);
    // (NOW − 2 d, NOW]: A only (B sits on the open start); f3 open; f1 and f2 opened 47 h and 45 h ago: restored.
    assert.equal(res.body.deploymentFrequency.deployments, 1);
    assert.equal(res.body.deploymentFrequency.value, 0.5);
    assert.equal(res.body.leadTimeForChanges.value, 2);
    assert.equal(res.body.changeFailureRate.value, 100);
    assert.equal(res.body.timeToRestoreService.value, 60);
    assert.equal(res.body.timeToRestoreService.openIncidents, 1);
    // Previous (NOW − 4 d, NOW − 2 d]: B and C.
    assert.equal(res.body.deploymentFrequency.trend.previous, 1);
  });

  test('When Prometheus scrapes, then the gauges carry the same numbers in seconds and ratios', async () => {
    await dora.refreshMetrics();
    const text = (await request(t.app).get('/metrics').expect(200)).text;
    assert.equal(sample(text, 'cloudmart_dora_deployments_in_window'), 4);
    assert.equal(sample(text, 'cloudmart_dora_deployment_frequency_per_day'), 4 / 30);
    assert.equal(sample(text, 'cloudmart_dora_lead_time_seconds', { percentile: '50' }), 4 * 3600);
    assert.ok(Math.abs((sample(text, 'cloudmart_dora_lead_time_seconds', { percentile: '95' }) ?? 0) - 27.4 * 3600) < 0.001);
    assert.equal(sample(text, 'cloudmart_dora_change_failure_ratio'), 0.5);
    assert.equal(sample(text, 'cloudmart_dora_time_to_restore_seconds', { percentile: '50' }), 3600);
    assert.ok(Math.abs((sample(text, 'cloudmart_dora_time_to_restore_seconds', { percentile: '95' }) ?? 0) - 87 * 60) < 0.001);
    assert.equal(sample(text, 'cloudmart_dora_open_incidents'), 1);
    const ratings = Object.fromEntries(
      ['deployment_frequency', 'lead_time', 'change_failure_rate', 'time_to_restore'].map((metric) => [
        metric,
        sample(text, 'cloudmart_dora_rating', { metric }),
      ]),
    );
    assert.deepEqual(ratings, { deployment_frequency: 2, lead_time: 4, change_failure_rate: 1, time_to_restore: 3 });
  });

  test('When promtool checks the DORA families of a scrape, then it finds no problem', async (tc) => {
    const promtool = requireTool('promtool', tc);
    if (!promtool) return;
    await dora.refreshMetrics();
    const text = (await request(t.app).get('/metrics').expect(200)).text;
    // Only the DORA families: prom-client's default metrics have lint findings of their own.
    const families = text
      .split('\n')
      .filter((line) => /^(# (HELP|TYPE) )?cloudmart_dora_/.test(line))
      .join('\n');
    assert.match(families, /^cloudmart_dora_lead_time_seconds\{/m);
    const check = spawnSync(promtool, ['check', 'metrics'], { input: `${families}\n`, encoding: 'utf8' });
    assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
  });

  test('When days is not a whole number in 1..365 or is given twice, then 400', async () => {
    for (const q of ['days=0', 'days=366', 'days=abc', 'days=1.5', 'days=-3', 'days=1&days=2', 'weeks=2']) {
      const res = await request(t.app).get(`/api/dora-metrics?${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(res.body.error.code, 'VALIDATION_FAILED');
    }
    await request(t.app).get('/api/dora-metrics?days=365').expect(200);
  });
});

describe('DORA metrics with nothing recorded', () => {
  let t: TestApp;
  before(async () => {
    ({ t } = await startDoraApp({ metricsTtlMs: 0 }));
  });
  after(() => t.close());

  test('When nothing was ever recorded, then counts are 0 and every value that needs data is null, unrated', async () => {
    const res = await request(t.app).get('/api/dora-metrics').expect(200);
    const b = res.body;
    assert.deepEqual(b.deploymentFrequency, {
      value: 0,
      unit: 'per_day',
      deployments: 0,
      period: null,
      rating: null,
      trend: { previous: 0, changePercent: null },
    });
    assert.deepEqual(b.leadTimeForChanges, { value: null, unit: 'hours', p50: null, p95: null, rating: null, trend: { previous: null, changePercent: null } });
    assert.deepEqual(b.changeFailureRate, {
      value: null,
      unit: 'percent',
      failedDeployments: 0,
      deployments: 0,
      rating: null,
      trend: { previous: null, changePercent: null },
    });
    assert.deepEqual(b.timeToRestoreService, {
      value: null,
      unit: 'minutes',
      p50: null,
      p95: null,
      openIncidents: 0,
      rating: null,
      trend: { previous: null, changePercent: null },
    });
  });

  test('When Prometheus scrapes an empty history, then counts are 0 and unknown values are absent, not 0', async () => {
    const text = (await request(t.app).get('/metrics').expect(200)).text;
    assert.equal(sample(text, 'cloudmart_dora_deployments_in_window'), 0);
    assert.equal(sample(text, 'cloudmart_dora_deployment_frequency_per_day'), 0);
    assert.equal(sample(text, 'cloudmart_dora_open_incidents'), 0);
    assert.match(text, /# TYPE cloudmart_dora_rating gauge/);
    assert.doesNotMatch(text, /^cloudmart_dora_(rating|lead_time_seconds|time_to_restore_seconds|change_failure_ratio)\{/m);
  });
});

describe('DORA gauges when the database is slow or down', () => {
  let t: TestApp;
  before(async () => {
    // A scrape waits at most 300 ms for a refresh; a query behind the lock would wait 30 s.
    ({ t } = await startDoraApp({ metricsTtlMs: 0, metricsMaxWaitMs: 300, env: { DB_STATEMENT_TIMEOUT_MS: '30000' } }));
    await request(t.app)
      .post('/api/dora/deployments')
      .send({ service: 'cloudmart-backend', version: '1', commitSha: 'abc1234', commitTime: ago(2 * HOUR), deployedAt: ago(HOUR) })
      .expect(201);
  });
  after(() => t.close());

  test('When a refresh is stuck behind a lock, then the scrape answers in time with the last values', async () => {
    const first = (await request(t.app).get('/metrics').expect(200)).text;
    assert.equal(sample(first, 'cloudmart_dora_deployments_in_window'), 1);

    const locker = new pg.Client({ connectionString: dbUrl(t) });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query("INSERT INTO dora_deployments (service, version, deployed_at, source) VALUES ('cloudmart-backend', '2', now(), 'api')");
      await locker.query('LOCK TABLE dora_deployments IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const stale = (await request(t.app).get('/metrics').expect(200)).text;
      // The lock is held until COMMIT below, so the refresh cannot end: the scrape answered
      // without it, well under the 30 s statement timeout it would otherwise wait for.
      assert.ok(Date.now() - started < 6000, `scrape took ${Date.now() - started} ms`);
      assert.equal(sample(stale, 'cloudmart_dora_deployments_in_window'), 1, 'the last value, not a gap');
      await locker.query('COMMIT');
    } finally {
      await locker.end();
    }
    // The stuck refresh completes once the lock is gone; a later scrape shows the new deployment.
    await eventually(
      'a scrape to show the new deployment',
      async () => {
        const fresh = sample((await request(t.app).get('/metrics').expect(200)).text, 'cloudmart_dora_deployments_in_window');
        return fresh === 2 ? fresh : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
  });

  test('When the database is gone, then the scrape still answers with the last values and a warning is logged', async () => {
    await t.db.close();
    const text = (await request(t.app).get('/metrics').expect(200)).text;
    assert.equal(sample(text, 'cloudmart_dora_deployments_in_window'), 2);
    assert.equal(sample(text, 'cloudmart_dora_lead_time_seconds', { percentile: '50' }), 3600);
    assert.ok(t.logs.find((l) => l.level === 'warn' && String(l.msg).includes('could not compute DORA metrics')));
  });
});
