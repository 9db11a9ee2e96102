import type { Router } from 'express';
import type { Config } from '../config';
import type { Database } from '../store/database';
import type { Logger } from '../telemetry/logger';
import type { Metrics } from '../telemetry/metrics';
import { createDoraMetrics } from './metrics';
import { recordOwnDeployment } from './own-deployment';
import { doraRoutes } from './routes';
import { DoraService } from './service';

export { recordOwnDeployment } from './own-deployment';

export interface DoraDeps {
  config: Pick<Config, 'service' | 'dora' | 'webhookToken'>;
  db: Database;
  logger: Logger;
  metrics: Metrics;
}

export interface DoraModuleOptions {
  /** The clock the windows end at (tests pin it). */
  now?: () => Date;
  /** How long computed gauges are reused across scrapes. */
  metricsTtlMs?: number;
  /** How long a scrape waits for a refresh before serving the last values. */
  metricsMaxWaitMs?: number;
}

export interface DoraModule {
  router: Router;
  service: DoraService;
  /** Recomputes the gauges now instead of on the next stale scrape. */
  refreshMetrics(): Promise<void>;
  /** Records the running version when DORA_RECORD_DEPLOYMENT is on (the default). */
  recordOwnDeployment(): Promise<void>;
}

/**
 * The DORA feature in one piece: its routes for createApp's `routers`, and gauges
 * registered on the app's metrics registry that compute themselves on scrape.
 */
export function doraModule(deps: DoraDeps, opts: DoraModuleOptions = {}): DoraModule {
  const service = new DoraService(deps.db, { incidentSeverities: deps.config.dora.incidentSeverities, now: opts.now });
  const gauges = createDoraMetrics({
    registry: deps.metrics.registry,
    logger: deps.logger,
    measure: (days) => service.measure(days),
    ttlMs: opts.metricsTtlMs,
    maxWaitMs: opts.metricsMaxWaitMs,
  });
  return {
    router: doraRoutes(service, { githubWebhookSecret: deps.config.dora.githubWebhookSecret, webhookToken: deps.config.webhookToken }),
    service,
    refreshMetrics: gauges.refresh,
    async recordOwnDeployment() {
      if (deps.config.dora.recordDeployment) await recordOwnDeployment(deps.db, deps.config, deps.logger, opts.now?.());
    },
  };
}
