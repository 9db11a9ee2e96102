/**
 * The four keys' math against hand computations. Every expected number below is
 * worked out in the comment next to it, not produced by the code under test.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AlertmanagerPayload } from '../../src/alerting/alertmanager-payload';
import { incidentEvents } from '../../src/dora/alertmanager';
import {
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  frequencyBucket,
  measurePeriod,
  median,
  percentile,
  previousWindow,
  rate,
  rateChangeFailureRate,
  rateDeploymentFrequency,
  rateLeadTime,
  rateTimeToRestore,
  ratedDays,
  windowEnding,
  type DeploymentFact,
  type IncidentFact,
} from '../../src/dora/ratings';
import { buildReport } from '../../src/dora/report';

const T = new Date('2026-03-31T12:00:00.000Z');
const ago = (ms: number) => new Date(T.getTime() - ms);
/** Interpolated percentiles are floating point: equal to the millisecond is equal. */
function near(actual: number | null, expected: number): void {
  assert.ok(actual !== null && Math.abs(actual - expected) < 1, `${actual} ≈ ${expected}`);
}
const deployedDaysAgo = (...days: number[]) => days.map((d) => ago(d * DAY_MS + HOUR_MS));

describe('percentiles (PERCENTILE_CONT, as Four Keys computes them)', () => {
  test('When the count is odd, then the median is the middle value', () => {
    assert.equal(median([30, 10, 20]), 20);
  });

  test('When the count is even, then the median is the mean of the two middle values', () => {
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([30, 90]), 60);
  });

  test('When p95 falls between ranks, then it interpolates linearly', () => {
    // ranks 0..4, p95 at rank 3.8: 4 + 0.8 × (5 − 4)
    assert.equal(percentile([1, 2, 3, 4, 5], 0.95), 4.8);
    // rank 0.95 of two values: 10 + 0.95 × 10
    assert.equal(percentile([10, 20], 0.95), 19.5);
  });

  test('When there is one value, then every percentile is that value; with none, null', () => {
    assert.equal(percentile([7], 0.5), 7);
    assert.equal(percentile([7], 0.95), 7);
    assert.equal(median([]), null);
    assert.equal(percentile([], 0.95), null);
  });
});

describe('ratings at their boundaries', () => {
  test('When lead time crosses one day, one week and 730 hours, then the rating drops at each bound', () => {
    assert.equal(rateLeadTime(DAY_MS - 1), 'elite');
    assert.equal(rateLeadTime(DAY_MS), 'high');
    assert.equal(rateLeadTime(7 * DAY_MS - 1), 'high');
    assert.equal(rateLeadTime(7 * DAY_MS), 'medium');
    assert.equal(rateLeadTime(730 * HOUR_MS - 1), 'medium');
    assert.equal(rateLeadTime(730 * HOUR_MS), 'low');
  });

  test('When time to restore crosses one hour, one day and one week, then the rating drops at each bound', () => {
    assert.equal(rateTimeToRestore(HOUR_MS - 1), 'elite');
    assert.equal(rateTimeToRestore(HOUR_MS), 'high');
    assert.equal(rateTimeToRestore(DAY_MS - 1), 'high');
    assert.equal(rateTimeToRestore(DAY_MS), 'medium');
    assert.equal(rateTimeToRestore(7 * DAY_MS - 1), 'medium');
    assert.equal(rateTimeToRestore(7 * DAY_MS), 'low');
  });

  test('When the change failure rate is exactly 15, 30 or 45 %, then it keeps the better rating', () => {
    assert.equal(rateChangeFailureRate(0), 'elite');
    assert.equal(rateChangeFailureRate(3 / 20), 'elite');
    assert.equal(rateChangeFailureRate(0.1501), 'high');
    assert.equal(rateChangeFailureRate(6 / 20), 'high');
    assert.equal(rateChangeFailureRate(0.3001), 'medium');
    assert.equal(rateChangeFailureRate(9 / 20), 'medium');
    assert.equal(rateChangeFailureRate(10 / 20), 'low');
    assert.equal(rateChangeFailureRate(1), 'low');
  });

  test('When the frequency bucket is daily, weekly, monthly or yearly, then it rates elite, high, medium, low', () => {
    assert.deepEqual((['daily', 'weekly', 'monthly', 'yearly'] as const).map(rateDeploymentFrequency), ['elite', 'high', 'medium', 'low']);
  });
});

describe('deployment frequency bucket (Four Keys: days per week, weeks, months with deployments)', () => {
  test('When the median week has deployments on 3 days, then daily', () => {
    // 28 days = 4 weeks, each with deployments on days 0, 1, 2 of the week
    const days = [0, 1, 2, 7, 8, 9, 14, 15, 16, 21, 22, 23];
    assert.equal(frequencyBucket(deployedDaysAgo(...days), T, 28), 'daily');
  });

  test('When two weeks have 3 days and two have 2, then the median is 2.5 days: weekly, not daily', () => {
    const days = [0, 1, 2, 7, 8, 9, 14, 15, 21, 22];
    assert.equal(frequencyBucket(deployedDaysAgo(...days), T, 28), 'weekly');
  });

  test('When several deployments fall on one day, then that is still one day with deployments', () => {
    const sameDay = [ago(HOUR_MS), ago(2 * HOUR_MS), ago(3 * HOUR_MS), ago(4 * HOUR_MS)];
    // week 0 has 1 day; weeks 1-3 have none → median week 0 days, median deployed 0 → monthly (the one month has one)
    assert.equal(frequencyBucket(sameDay, T, 28), 'monthly');
  });

  test('When only half the weeks have a deployment, then not weekly (most weeks must): monthly', () => {
    // weeks deployed [1, 1, 0, 0] → median 0.5 < 1; the single 30-day month has deployments
    assert.equal(frequencyBucket(deployedDaysAgo(3, 10), T, 28), 'monthly');
  });

  test('When most 30-day months have a deployment but most weeks do not, then monthly', () => {
    // 90 days = 13 weeks (2 deployed) and 3 months: [1, 1, 0] → median 1
    assert.equal(frequencyBucket(deployedDaysAgo(5, 40), T, 90), 'monthly');
  });

  test('When one month of three has a deployment, then yearly', () => {
    assert.equal(frequencyBucket(deployedDaysAgo(10), T, 90), 'yearly');
  });

  test('When there are no deployments, then yearly', () => {
    assert.equal(frequencyBucket([], T, 30), 'yearly');
  });

  test('When deployments began inside the window, then only the days since the first count (as Four Keys starts at its data)', () => {
    // first deployment 2.5 days ago → slots 0, 1, 2; exactly 2 days ago → still 3 slots (that day counts)
    assert.equal(ratedDays(30, T, ago(2.5 * DAY_MS)), 3);
    assert.equal(ratedDays(30, T, ago(2 * DAY_MS)), 3);
    assert.equal(ratedDays(30, T, ago(100 * DAY_MS)), 30);
    assert.equal(ratedDays(30, T, new Date(T.getTime() + MINUTE_MS)), 1);
    assert.equal(ratedDays(30, T, null), 30);
    // Deploying every day for the last 10 days: weeks [7, 3] over 10 days → daily;
    // judged over all 30 days, weeks [7, 3, 0, 0, 0] → median 0 → monthly.
    const tenDays = deployedDaysAgo(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    assert.equal(frequencyBucket(tenDays, T, ratedDays(30, T, tenDays[9] ?? null)), 'daily');
    assert.equal(frequencyBucket(tenDays, T, 30), 'monthly');
  });
});

// The fixture of the report tests: a 30-day window ending at T and the one before it.
const deployments: DeploymentFact[] = [
  { deployedAt: ago(1 * DAY_MS), commitTime: ago(1 * DAY_MS + 2 * HOUR_MS), failed: false }, // lead 2 h
  { deployedAt: ago(2 * DAY_MS), commitTime: ago(2 * DAY_MS + 4 * HOUR_MS), failed: true }, // lead 4 h, failed
  { deployedAt: ago(3 * DAY_MS), commitTime: null, failed: false }, // no commit time: frequency only
  { deployedAt: ago(10 * DAY_MS), commitTime: ago(10 * DAY_MS + 30 * HOUR_MS), failed: false }, // lead 30 h
  // previous window (T−60d, T−30d]
  { deployedAt: ago(30 * DAY_MS), commitTime: ago(30 * DAY_MS + 5 * HOUR_MS), failed: false }, // on the boundary: previous
  { deployedAt: ago(40 * DAY_MS), commitTime: ago(40 * DAY_MS + 1 * HOUR_MS), failed: true },
];
const incidents: IncidentFact[] = [
  { openedAt: ago(2 * DAY_MS - HOUR_MS), resolvedAt: ago(2 * DAY_MS - HOUR_MS - 30 * MINUTE_MS) }, // 30 min
  { openedAt: ago(5 * DAY_MS), resolvedAt: ago(5 * DAY_MS - 90 * MINUTE_MS) }, // 90 min
  { openedAt: ago(HOUR_MS), resolvedAt: null }, // still open
  { openedAt: ago(35 * DAY_MS), resolvedAt: ago(35 * DAY_MS - 10 * MINUTE_MS) }, // previous: 10 min
];
const FIRST = ago(40 * DAY_MS);

describe('one window measured', () => {
  test('When deployments and incidents fall in and out of the window, then each key counts only its own', () => {
    const m = measurePeriod(deployments, incidents, windowEnding(T, 30), FIRST);
    assert.equal(m.deployments, 4, 'the deployment exactly 30 days ago belongs to the previous window');
    assert.equal(m.deploymentsPerDay, 4 / 30);
    // deployments on day slots 1, 2, 3, 10 → weeks [3, 1, 0, 0, 0]: median 0 days, weeks deployed median 0; one month, deployed
    assert.equal(m.frequencyBucket, 'monthly');
    // lead times 2, 4, 30 h → median 4 h; p95 at rank 1.9: 4 + 0.9 × 26 = 27.4 h
    assert.equal(m.leadTimeMs.p50, 4 * HOUR_MS);
    near(m.leadTimeMs.p95, 27.4 * HOUR_MS);
    assert.equal(m.leadTimeMs.samples, 3);
    assert.equal(m.failedDeployments, 1);
    assert.equal(m.changeFailureRatio, 0.25);
    // restored 30 and 90 min → median 60 min; p95 30 + 0.95 × 60 = 87 min
    assert.equal(m.restoreMs.p50, 60 * MINUTE_MS);
    near(m.restoreMs.p95, 87 * MINUTE_MS);
    assert.equal(m.openIncidents, 1, 'the unresolved incident is counted, not timed');
    assert.deepEqual(rate(m), { deploymentFrequency: 'medium', leadTime: 'elite', changeFailureRate: 'high', timeToRestore: 'high' });
  });

  test('When the period is empty and nothing was ever deployed, then counts are 0 and every rating is null', () => {
    const m = measurePeriod([], [], windowEnding(T, 30), null);
    assert.equal(m.deployments, 0);
    assert.equal(m.deploymentsPerDay, 0);
    assert.equal(m.frequencyBucket, null);
    assert.deepEqual(m.leadTimeMs, { p50: null, p95: null, samples: 0 });
    assert.equal(m.changeFailureRatio, null);
    assert.deepEqual(m.restoreMs, { p50: null, p95: null, samples: 0 });
    assert.equal(m.openIncidents, 0);
    assert.deepEqual(rate(m), { deploymentFrequency: null, leadTime: null, changeFailureRate: null, timeToRestore: null });
  });

  test('When the window is empty but earlier deployments exist, then frequency is yearly (low), the rest null', () => {
    const m = measurePeriod(deployments, [], windowEnding(ago(100 * DAY_MS), 30), FIRST);
    assert.equal(m.deployments, 0);
    assert.equal(m.frequencyBucket, 'yearly');
    assert.equal(rate(m).deploymentFrequency, 'low');
    assert.equal(m.changeFailureRatio, null);
  });

  test('When there are deployments and no incidents, then the failure rate is 0 % (elite) and restore time is null', () => {
    const clean = deployments.map((d) => ({ ...d, failed: false }));
    const m = measurePeriod(clean, [], windowEnding(T, 30), FIRST);
    assert.equal(m.changeFailureRatio, 0);
    assert.equal(rate(m).changeFailureRate, 'elite');
    assert.equal(m.restoreMs.p50, null);
    assert.equal(rate(m).timeToRestore, null);
    assert.equal(m.openIncidents, 0);
  });

  test('When the only incident never resolves, then restore time is null and it is one open incident', () => {
    const m = measurePeriod(deployments, [{ openedAt: ago(DAY_MS), resolvedAt: null }], windowEnding(T, 30), FIRST);
    assert.equal(m.restoreMs.p50, null);
    assert.equal(m.openIncidents, 1);
  });

  test('When a commit time is after its deployment, then that lead time is left out as bad data', () => {
    const m = measurePeriod([{ deployedAt: ago(HOUR_MS), commitTime: T, failed: false }], [], windowEnding(T, 30), FIRST);
    assert.equal(m.deployments, 1);
    assert.equal(m.leadTimeMs.samples, 0);
  });
});

describe('the report', () => {
  test('When two windows are compared, then values are in hours/percent/minutes with the previous window as trend', () => {
    const current = windowEnding(T, 30);
    const report = buildReport(measurePeriod(deployments, incidents, current, FIRST), measurePeriod(deployments, incidents, previousWindow(current), FIRST));
    assert.deepEqual(report, {
      period: { days: 30, from: '2026-03-01T12:00:00.000Z', to: '2026-03-31T12:00:00.000Z' },
      // 4 / 30 = 0.133 per day; previous 2 / 30 = 0.067: +100 %
      deploymentFrequency: {
        value: 0.133,
        unit: 'per_day',
        deployments: 4,
        period: 'monthly',
        rating: 'medium',
        trend: { previous: 0.067, changePercent: 100 },
      },
      // median 4 h, previously median of 5 h and 1 h = 3 h: +33.3 %
      leadTimeForChanges: { value: 4, unit: 'hours', p50: 4, p95: 27.4, rating: 'elite', trend: { previous: 3, changePercent: 33.3 } },
      // 1 of 4 = 25 %, previously 1 of 2 = 50 %: −50 %
      changeFailureRate: { value: 25, unit: 'percent', failedDeployments: 1, deployments: 4, rating: 'high', trend: { previous: 50, changePercent: -50 } },
      // median 60 min, previously 10 min: +500 %
      timeToRestoreService: { value: 60, unit: 'minutes', p50: 60, p95: 87, openIncidents: 1, rating: 'high', trend: { previous: 10, changePercent: 500 } },
    });
  });

  test('When the previous window is empty, then the trend has its value but no percentage', () => {
    const current = windowEnding(T, 30);
    const report = buildReport(measurePeriod(deployments, incidents, current, FIRST), measurePeriod([], [], previousWindow(current), FIRST));
    assert.deepEqual(report.deploymentFrequency.trend, { previous: 0, changePercent: null });
    assert.deepEqual(report.leadTimeForChanges.trend, { previous: null, changePercent: null });
    assert.deepEqual(report.changeFailureRate.trend, { previous: null, changePercent: null });
  });
});

describe('Alertmanager alerts → incident events', () => {
  const alert = (severity: string | undefined, status: 'firing' | 'resolved' = 'firing') => ({
    status,
    labels: { alertname: 'HTTPErrorRate', service: 'cloudmart', ...(severity ? { severity } : {}) },
    startsAt: ago(HOUR_MS),
    endsAt: T,
    fingerprint: `fp-${severity ?? 'none'}`,
  });
  const payload = (alerts: ReturnType<typeof alert>[]): AlertmanagerPayload => ({ version: '4', status: 'firing', receiver: 'dora', alerts });

  test('When severities are configured, then only those alerts become events; others and unlabelled ones are ignored', () => {
    const { events, ignored } = incidentEvents(payload([alert('critical'), alert('page'), alert('warning'), alert(undefined)]), ['critical', 'page']);
    assert.deepEqual(
      events.map((e) => e.severity),
      ['critical', 'page'],
    );
    assert.equal(ignored, 2);
  });

  test('When an alert is resolved, then its event carries endsAt as the resolution time', () => {
    const { events } = incidentEvents(payload([alert('critical', 'resolved')]), ['critical']);
    assert.deepEqual(events, [
      { fingerprint: 'fp-critical', alertname: 'HTTPErrorRate', severity: 'critical', service: 'cloudmart', openedAt: ago(HOUR_MS), resolvedAt: T },
    ]);
  });
});
