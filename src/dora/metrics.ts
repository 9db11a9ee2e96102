import { Gauge } from 'prom-client';
import { withTimeout } from '../timeout';
import type { Logger } from '../telemetry/logger';
import type { MetricsRegistry } from '../telemetry/metrics';
import { rate, RATING_SCORE, type PeriodMetrics, type Rating } from './ratings';

/**
 * The four keys as Prometheus gauges (docker/grafana/dashboards/dora.json reads
 * them). They are computed from Postgres on scrape, through prom-client's collect
 * hook, at most once per `ttlMs`; a scrape waits at most `maxWaitMs` for a refresh
 * and otherwise, or when the database fails, serves the last values it had.
 *
 * Every gauge carries a `window` label so a series can be absent: prom-client
 * always exports an unlabelled gauge (as 0), and "no incident resolved yet" must
 * read as no data in Grafana, not as a restore time of 0 s.
 */

export const GAUGE_WINDOW_DAYS = 30;

export interface DoraMetricsOptions {
  registry: MetricsRegistry;
  logger: Logger;
  measure: (days: number) => Promise<PeriodMetrics>;
  ttlMs?: number;
  maxWaitMs?: number;
}

export interface DoraMetrics {
  /** Recomputes now (the next scrape sees the result); resolves when done. */
  refresh: () => Promise<void>;
}

export function createDoraMetrics(opts: DoraMetricsOptions): DoraMetrics {
  const ttlMs = opts.ttlMs ?? 15_000;
  const maxWaitMs = opts.maxWaitMs ?? 1_000;
  const window = `${GAUGE_WINDOW_DAYS}d`;
  const log = opts.logger.child({ component: 'dora-metrics' });
  let refreshedAt = -Infinity;
  let inFlight: Promise<void> | undefined;

  const start = (): Promise<void> => (inFlight ??= run());
  const refreshIfStale = async (): Promise<void> => {
    if (!inFlight && Date.now() - refreshedAt < ttlMs) return;
    // Past maxWaitMs the scrape gets the last values; the refresh goes on behind it.
    await withTimeout(start(), maxWaitMs, () => undefined);
  };

  const registers = [opts.registry];
  // Every gauge awaits the same refresh: prom-client reads each metric right after its
  // own collect, so a gauge without the hook would be read before the refresh lands.
  const common = { labelNames: ['window'] as const, registers, collect: refreshIfStale };
  const perDay = new Gauge({
    name: 'cloudmart_dora_deployment_frequency_per_day',
    help: `Successful deployments per day over the last ${GAUGE_WINDOW_DAYS} days`,
    ...common,
  });
  const deployments = new Gauge({
    name: 'cloudmart_dora_deployments_in_window',
    help: `Successful deployments in the last ${GAUGE_WINDOW_DAYS} days`,
    ...common,
  });
  const cfr = new Gauge({ name: 'cloudmart_dora_change_failure_ratio', help: 'Deployments followed by an incident / deployments (0..1)', ...common });
  const open = new Gauge({ name: 'cloudmart_dora_open_incidents', help: 'Incidents opened in the window and not yet resolved', ...common });
  // `percentile`, not `quantile`: the exposition formats reserve `quantile` for summaries,
  // and these are gauges of percentiles computed in Postgres (promtool check metrics rejects it).
  const percentiles = { ...common, labelNames: ['window', 'percentile'] as const };
  const leadTime = new Gauge({
    name: 'cloudmart_dora_lead_time_seconds',
    help: 'Lead time for changes (commit to deploy), by percentile (50, 95), in seconds',
    ...percentiles,
  });
  const restore = new Gauge({
    name: 'cloudmart_dora_time_to_restore_seconds',
    help: 'Time to restore service (incident open to resolved), by percentile (50, 95), in seconds',
    ...percentiles,
  });
  const rating = new Gauge({
    name: 'cloudmart_dora_rating',
    help: 'DORA rating per key: 4 = elite, 3 = high, 2 = medium, 1 = low',
    ...common,
    labelNames: ['window', 'metric'] as const,
  });

  const setOrRemove = <L extends string>(g: Gauge<L>, labels: Record<L, string>, v: number | null) => {
    if (v === null) g.remove(labels);
    else g.set(labels, v);
  };
  const setRating = (metric: string, r: Rating | null) => setOrRemove(rating, { window, metric }, r && RATING_SCORE[r]);

  async function run(): Promise<void> {
    try {
      const m = await opts.measure(GAUGE_WINDOW_DAYS);
      perDay.set({ window }, m.deploymentsPerDay);
      deployments.set({ window }, m.deployments);
      setOrRemove(cfr, { window }, m.changeFailureRatio);
      open.set({ window }, m.openIncidents);
      const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);
      setOrRemove(leadTime, { window, percentile: '50' }, seconds(m.leadTimeMs.p50));
      setOrRemove(leadTime, { window, percentile: '95' }, seconds(m.leadTimeMs.p95));
      setOrRemove(restore, { window, percentile: '50' }, seconds(m.restoreMs.p50));
      setOrRemove(restore, { window, percentile: '95' }, seconds(m.restoreMs.p95));
      const r = rate(m);
      setRating('deployment_frequency', r.deploymentFrequency);
      setRating('lead_time', r.leadTime);
      setRating('change_failure_rate', r.changeFailureRate);
      setRating('time_to_restore', r.timeToRestore);
      refreshedAt = Date.now();
    } catch (err) {
      // Keep the last values; retry on a later scrape, not on every one of a burst.
      refreshedAt = Date.now();
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not compute DORA metrics; serving the last values');
    } finally {
      inFlight = undefined;
    }
  }

  return { refresh: start };
}
