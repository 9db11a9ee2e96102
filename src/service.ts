/**
 * The composition root: builds the whole service from its config, in one place.
 * server.ts calls it and listens; the tests call it with overrides and drive the
 * returned app with supertest, so what they test is the production wiring.
 */
import type { Express } from 'express';
import { createAlertingMetrics } from './alerting/metrics';
import { notificationLogRoutes } from './alerting/notification-log';
import { createApp } from './app';
import type { Cache } from './cache/cache';
import { openCache } from './cache/open-cache';
import { chaosModule, type ChaosModule } from './chaos';
import type { Config } from './config';
import { doraModule, type DoraModule, type DoraModuleOptions } from './dora';
import { warnOpenEndpoints } from './dora/open-endpoints';
import type { Database } from './store/database';
import { openDatabase } from './store/open-database';
import { createLogger, type Logger } from './telemetry/logger';
import { createMetrics, type Metrics } from './telemetry/metrics';

export interface ServiceOverrides {
  /** Where log lines go; by default the logger the config describes (stdout or LOG_FILE). */
  logger?: Logger;
  /** The DORA module's clock and gauge caching (tests pin them). */
  dora?: DoraModuleOptions;
  /** How long the start waits for Redis before serving without the cache (and the faults other replicas set). */
  cacheReadyMs?: number;
}

export interface Service {
  app: Express;
  config: Config;
  db: Database;
  cache: Cache;
  metrics: Metrics;
  logger: Logger;
  chaos: ChaosModule;
  dora: DoraModule;
  /** Readiness answers 503 from now on, so load balancers stop sending new requests. */
  beginShutdown(): void;
  /** Closes the pool, Redis and the embedded database; the HTTP server is the caller's. */
  close(): Promise<void>;
}

export async function createService(config: Config, overrides: ServiceOverrides = {}): Promise<Service> {
  const logger = overrides.logger ?? createLogger({ level: config.logLevel, file: config.logFile, service: config.service.name });
  logger.info({ version: config.service.version, commit: config.service.commitSha, environment: config.service.environment }, 'starting cloudmart');
  const { db, embedded } = await openDatabase(config, logger);
  const metrics = createMetrics();

  // A no-op unless CHAOS_ENABLED=true.
  const chaos = chaosModule(config, metrics, logger);
  chaos.hookDatabase(db);
  const cache = chaos.wrapCache(openCache(config, logger));
  // Give Redis a moment so the first requests are cached and see the faults other
  // replicas set; never wait on it for long.
  const readyMs = overrides.cacheReadyMs ?? 2000;
  const [cacheReady, chaosReady] = await Promise.all([cache.ready(readyMs), chaos.ready(readyMs)]);
  if (!cacheReady) logger.warn('redis not reachable yet; starting without the cache');
  if (!chaosReady) logger.warn('chaos: the faults other replicas set are not read yet; they apply once redis answers');

  const dora = doraModule({ config, db, logger, metrics }, overrides.dora);
  warnOpenEndpoints(config, logger);
  // After the migrations (openDatabase ran them); never fails the start.
  await dora.recordOwnDeployment();

  let shuttingDown = false;
  const { app } = createApp({
    config,
    db,
    cache,
    logger,
    metrics,
    routeMiddleware: chaos.routeMiddleware,
    routers: [...chaos.routers, dora.router, notificationLogRoutes(logger, createAlertingMetrics(metrics.registry), config.webhookToken)],
    isShuttingDown: () => shuttingDown,
  });

  return {
    app,
    config,
    db,
    cache,
    metrics,
    logger,
    chaos,
    dora,
    beginShutdown() {
      shuttingDown = true;
    },
    async close() {
      await Promise.allSettled([db.close(), cache.close(), chaos.close()]);
      await embedded?.stop();
    },
  };
}
