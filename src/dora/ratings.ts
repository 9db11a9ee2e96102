/**
 * The four keys as pure functions of deployment and incident facts, with the
 * definitions of dora-team/fourkeys (METRICS.md) and its dashboard's buckets.
 * No I/O and no clock: every function takes the window it measures, so the
 * tests can check each number against a hand computation.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

export type Rating = 'elite' | 'high' | 'medium' | 'low';
export type FrequencyBucket = 'daily' | 'weekly' | 'monthly' | 'yearly';

/** The gauge encoding the Grafana dashboard maps back to names. */
export const RATING_SCORE: Record<Rating, number> = { elite: 4, high: 3, medium: 2, low: 1 };

export interface DeploymentFact {
  deployedAt: Date;
  commitTime: Date | null;
  /** At least one incident is linked to this deployment. */
  failed: boolean;
}

export interface IncidentFact {
  openedAt: Date;
  resolvedAt: Date | null;
}

/** A window (from, to]: open at the start, closed at the end, so adjacent windows never share an event. */
export interface Window {
  from: Date;
  to: Date;
  days: number;
}

export function windowEnding(to: Date, days: number): Window {
  return { from: new Date(to.getTime() - days * DAY_MS), to, days };
}

export function previousWindow(w: Window): Window {
  return windowEnding(w.from, w.days);
}

function inWindow(t: Date, w: Window): boolean {
  return t.getTime() > w.from.getTime() && t.getTime() <= w.to.getTime();
}

/**
 * PERCENTILE_CONT: linear interpolation between the closest ranks, as in Four Keys'
 * BigQuery SQL; the median of an even count is the mean of the two middle values.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = p * (sorted.length - 1);
  const lower = sorted[Math.floor(rank)] ?? 0;
  const upper = sorted[Math.ceil(rank)] ?? 0;
  return lower + (upper - lower) * (rank - Math.floor(rank));
}

export function median(values: readonly number[]): number | null {
  return percentile(values, 0.5);
}

/**
 * Four Keys' deployment-frequency bucket. Days are 24-hour slots counted back from
 * `to` (slot 0 ends at `to`), weeks are 7 slots and months 30, the oldest of each
 * possibly partial, as calendar weeks are at the edges of Four Keys' 3-month view:
 * - daily: the median week has deployments on at least 3 days;
 * - weekly: most weeks (median) have a deployment;
 * - monthly: most months (median) have a deployment;
 * - yearly: anything slower.
 */
export function frequencyBucket(deployedAt: readonly Date[], to: Date, days: number): FrequencyBucket {
  const slots = new Set<number>();
  for (const t of deployedAt) {
    const slot = Math.floor((to.getTime() - t.getTime()) / DAY_MS);
    if (slot >= 0 && slot < days) slots.add(slot);
  }
  const daysWithDeployments = (size: number): number[] =>
    Array.from({ length: Math.ceil(days / size) }, (_, i) => {
      let n = 0;
      for (let s = i * size; s < Math.min((i + 1) * size, days); s++) if (slots.has(s)) n++;
      return n;
    });
  const weeks = daysWithDeployments(7);
  if ((median(weeks) ?? 0) >= 3) return 'daily';
  if ((median(weeks.map((n) => Math.min(n, 1))) ?? 0) >= 1) return 'weekly';
  if ((median(daysWithDeployments(30).map((n) => Math.min(n, 1))) ?? 0) >= 1) return 'monthly';
  return 'yearly';
}

/**
 * How many day slots the frequency bucket looks at: Four Keys starts its view at the
 * first recorded event, so a service that began deploying last week is not judged on
 * the empty weeks before it existed.
 */
export function ratedDays(days: number, to: Date, firstDeployment: Date | null): number {
  if (!firstDeployment) return days;
  const since = Math.floor((to.getTime() - firstDeployment.getTime()) / DAY_MS) + 1;
  return Math.min(days, Math.max(1, since));
}

// Thresholds: Four Keys' dashboard buckets, and the DORA report's one hour for an elite restore.
export const LEAD_TIME_THRESHOLDS_MS = { elite: DAY_MS, high: 7 * DAY_MS, medium: 730 * HOUR_MS } as const;
export const RESTORE_THRESHOLDS_MS = { elite: HOUR_MS, high: DAY_MS, medium: 7 * DAY_MS } as const;
export const CHANGE_FAILURE_THRESHOLDS = { elite: 0.15, high: 0.3, medium: 0.45 } as const;

export function rateDeploymentFrequency(bucket: FrequencyBucket): Rating {
  return ({ daily: 'elite', weekly: 'high', monthly: 'medium', yearly: 'low' } as const)[bucket];
}

/** Strictly below each bound: a lead time of exactly one day is High, not Elite. */
function rateBelow(valueMs: number, t: { elite: number; high: number; medium: number }): Rating {
  if (valueMs < t.elite) return 'elite';
  if (valueMs < t.high) return 'high';
  if (valueMs < t.medium) return 'medium';
  return 'low';
}

export function rateLeadTime(medianMs: number): Rating {
  return rateBelow(medianMs, LEAD_TIME_THRESHOLDS_MS);
}

export function rateTimeToRestore(medianMs: number): Rating {
  return rateBelow(medianMs, RESTORE_THRESHOLDS_MS);
}

/** Up to and including each bound, as Four Keys' `<= .15`: a rate of exactly .15 is Elite. */
export function rateChangeFailureRate(ratio: number): Rating {
  const t = CHANGE_FAILURE_THRESHOLDS;
  if (ratio <= t.elite) return 'elite';
  if (ratio <= t.high) return 'high';
  if (ratio <= t.medium) return 'medium';
  return 'low';
}

/** Raw measurements of one window, in milliseconds and ratios; null where there was nothing to measure. */
export interface PeriodMetrics {
  window: Window;
  deployments: number;
  deploymentsPerDay: number;
  /** null when no deployment was ever recorded: there is no history to judge. */
  frequencyBucket: FrequencyBucket | null;
  leadTimeMs: { p50: number | null; p95: number | null; samples: number };
  failedDeployments: number;
  changeFailureRatio: number | null;
  restoreMs: { p50: number | null; p95: number | null; samples: number };
  openIncidents: number;
}

export interface Ratings {
  deploymentFrequency: Rating | null;
  leadTime: Rating | null;
  changeFailureRate: Rating | null;
  timeToRestore: Rating | null;
}

/**
 * Measures one window:
 * - deployment frequency: successful deployments in the window ÷ its days;
 * - lead time: commit → deploy of each deployment that knows its commit time
 *   (a commit after its deploy is bad data and is left out);
 * - change failure rate: deployments in the window with a linked incident ÷ deployments;
 * - time to restore: open → resolved of incidents opened in the window and resolved by
 *   its end; the ones still open are counted, not timed (their duration is unknown).
 */
export function measurePeriod(
  deployments: readonly DeploymentFact[],
  incidents: readonly IncidentFact[],
  window: Window,
  firstDeployment: Date | null,
): PeriodMetrics {
  const deployed = deployments.filter((d) => inWindow(d.deployedAt, window));
  const leadTimes = deployed
    .filter((d): d is DeploymentFact & { commitTime: Date } => d.commitTime !== null)
    .map((d) => d.deployedAt.getTime() - d.commitTime.getTime())
    .filter((ms) => ms >= 0);
  const failed = deployed.filter((d) => d.failed).length;
  const opened = incidents.filter((i) => inWindow(i.openedAt, window));
  const restored = opened.filter((i): i is IncidentFact & { resolvedAt: Date } => i.resolvedAt !== null && i.resolvedAt.getTime() <= window.to.getTime());
  const restoreTimes = restored.map((i) => i.resolvedAt.getTime() - i.openedAt.getTime());
  return {
    window,
    deployments: deployed.length,
    deploymentsPerDay: deployed.length / window.days,
    frequencyBucket: firstDeployment
      ? frequencyBucket(
          deployed.map((d) => d.deployedAt),
          window.to,
          ratedDays(window.days, window.to, firstDeployment),
        )
      : null,
    leadTimeMs: { p50: median(leadTimes), p95: percentile(leadTimes, 0.95), samples: leadTimes.length },
    failedDeployments: failed,
    changeFailureRatio: deployed.length ? failed / deployed.length : null,
    restoreMs: { p50: median(restoreTimes), p95: percentile(restoreTimes, 0.95), samples: restoreTimes.length },
    openIncidents: opened.length - restored.length,
  };
}

export function rate(m: PeriodMetrics): Ratings {
  return {
    deploymentFrequency: m.frequencyBucket && rateDeploymentFrequency(m.frequencyBucket),
    leadTime: m.leadTimeMs.p50 === null ? null : rateLeadTime(m.leadTimeMs.p50),
    changeFailureRate: m.changeFailureRatio === null ? null : rateChangeFailureRate(m.changeFailureRatio),
    timeToRestore: m.restoreMs.p50 === null ? null : rateTimeToRestore(m.restoreMs.p50),
  };
}
