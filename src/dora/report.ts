import { HOUR_MS, MINUTE_MS, rate, type FrequencyBucket, type PeriodMetrics, type Rating } from './ratings';

/**
 * The `GET /api/dora-metrics` body: the shape the course shows, in units people
 * read (per day, hours, percent, minutes), each key with the same key of the
 * previous window of equal length as its trend.
 */

export interface Trend {
  previous: number | null;
  /** null when either side is unknown or the previous value is 0 (no finite change). */
  changePercent: number | null;
}

export interface DoraReport {
  period: { days: number; from: string; to: string };
  deploymentFrequency: { value: number; unit: 'per_day'; deployments: number; period: FrequencyBucket | null; rating: Rating | null; trend: Trend };
  leadTimeForChanges: { value: number | null; unit: 'hours'; p50: number | null; p95: number | null; rating: Rating | null; trend: Trend };
  changeFailureRate: { value: number | null; unit: 'percent'; failedDeployments: number; deployments: number; rating: Rating | null; trend: Trend };
  timeToRestoreService: {
    value: number | null;
    unit: 'minutes';
    p50: number | null;
    p95: number | null;
    openIncidents: number;
    rating: Rating | null;
    trend: Trend;
  };
}

function round(v: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
}

function scaled(v: number | null, divisor: number, decimals: number): number | null {
  return v === null ? null : round(v / divisor, decimals);
}

// Computed from unrounded values so rounding never shows a change that is not there.
function trend(current: number | null, previous: number | null, shown: (v: number | null) => number | null): Trend {
  const changePercent = current === null || previous === null || previous === 0 ? null : round(((current - previous) / previous) * 100, 1);
  return { previous: shown(previous), changePercent };
}

export function buildReport(current: PeriodMetrics, previous: PeriodMetrics): DoraReport {
  const ratings = rate(current);
  const perDay = (v: number | null) => scaled(v, 1, 3);
  const hours = (v: number | null) => scaled(v, HOUR_MS, 2);
  const percent = (v: number | null) => scaled(v === null ? null : v * 100, 1, 1);
  const minutes = (v: number | null) => scaled(v, MINUTE_MS, 1);
  return {
    period: { days: current.window.days, from: current.window.from.toISOString(), to: current.window.to.toISOString() },
    deploymentFrequency: {
      value: round(current.deploymentsPerDay, 3),
      unit: 'per_day',
      deployments: current.deployments,
      period: current.frequencyBucket,
      rating: ratings.deploymentFrequency,
      trend: trend(current.deploymentsPerDay, previous.deploymentsPerDay, perDay),
    },
    leadTimeForChanges: {
      value: hours(current.leadTimeMs.p50),
      unit: 'hours',
      p50: hours(current.leadTimeMs.p50),
      p95: hours(current.leadTimeMs.p95),
      rating: ratings.leadTime,
      trend: trend(current.leadTimeMs.p50, previous.leadTimeMs.p50, hours),
    },
    changeFailureRate: {
      value: percent(current.changeFailureRatio),
      unit: 'percent',
      failedDeployments: current.failedDeployments,
      deployments: current.deployments,
      rating: ratings.changeFailureRate,
      trend: trend(current.changeFailureRatio, previous.changeFailureRatio, percent),
    },
    timeToRestoreService: {
      value: minutes(current.restoreMs.p50),
      unit: 'minutes',
      p50: minutes(current.restoreMs.p50),
      p95: minutes(current.restoreMs.p95),
      openIncidents: current.openIncidents,
      rating: ratings.timeToRestore,
      trend: trend(current.restoreMs.p50, previous.restoreMs.p50, minutes),
    },
  };
}
