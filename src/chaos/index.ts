import type { RequestHandler, Router } from 'express';
import type { Cache } from '../cache/cache';
import type { Config } from '../config';
import type { Database } from '../store/database';
import type { Logger } from '../telemetry/logger';
import type { Metrics } from '../telemetry/metrics';
import { chaosRoutes } from './admin-routes';
import { ChaosCache } from './chaos-cache';
import { localControl } from './control';
import { hookDatabase } from './database-faults';
import { injectRequestFaults } from './inject-requests';
import { createChaosMetrics } from './metrics';
import { SharedChaosState } from './shared-state';
import { ChaosState } from './state';

export interface ChaosModule {
  enabled: boolean;
  /** Undefined when fault injection is disabled. */
  state?: ChaosState;
  /** Mounted on each API route ahead of its handler (error and latency faults). */
  routeMiddleware: RequestHandler[];
  routers: Router[];
  hookDatabase(db: Database): void;
  wrapCache(cache: Cache): Cache;
  /** True once the faults other replicas set are read (with Redis), false after timeoutMs. */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

const DISABLED: ChaosModule = Object.freeze({
  enabled: false,
  routeMiddleware: [],
  routers: [],
  hookDatabase: () => undefined,
  wrapCache: (cache: Cache) => cache,
  ready: async () => true,
  close: async () => undefined,
});

/**
 * Fault injection for the lab (CHAOS_ENABLED=true + CHAOS_TOKEN). Disabled, it adds
 * nothing at all: no middleware, no route (the endpoint answers 404), no decorator.
 * With Redis the faults are shared by every replica using the same REDIS_KEY_PREFIX,
 * so a change through the load balancer reaches them all; without, they are this
 * process's own.
 */
export function chaosModule(config: Pick<Config, 'chaos' | 'cache'>, metrics: Metrics, logger: Logger): ChaosModule {
  const { enabled, token } = config.chaos;
  if (!enabled) return DISABLED;
  // loadConfig already refuses this; checked again because a token-less endpoint would be open to anyone.
  if (!token) throw new Error('fault injection needs CHAOS_TOKEN');

  const state = new ChaosState();
  const chaosMetrics = createChaosMetrics(metrics.registry);
  state.onChange((snapshot, reason) => {
    chaosMetrics.show(snapshot);
    logger.info({ chaos: snapshot.faults, active: snapshot.active, expiresAt: snapshot.expiresAt ?? undefined }, `chaos faults ${reason}`);
  });
  logger.warn('fault injection is enabled (CHAOS_ENABLED=true): PUT /api/admin/chaos can break this service on purpose');
  const { cache } = config;
  const control =
    cache.kind === 'redis'
      ? new SharedChaosState(state, { url: cache.url, keyPrefix: cache.keyPrefix, commandTimeoutMs: cache.commandTimeoutMs, logger })
      : localControl(state);

  return {
    enabled: true,
    state,
    routeMiddleware: [injectRequestFaults(state, chaosMetrics)],
    routers: [chaosRoutes(control, token)],
    hookDatabase: (db) => hookDatabase(db, state, chaosMetrics),
    wrapCache: (inner) => new ChaosCache(inner, state, chaosMetrics),
    ready: (timeoutMs) => control.ready(timeoutMs),
    close: () => control.close(),
  };
}
