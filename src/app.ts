import express, { type Express, type RequestHandler, type Router } from 'express';
import type { Cache } from './cache/cache';
import type { Config } from './config';
import { OrderService } from './domain/orders';
import { ProductService } from './domain/products';
import type { DomainEvents } from './domain/types';
import { errorHandler, notFound, refuseOptions } from './http/middleware/errors';
import { observeRequests } from './http/middleware/observe-request';
import { securityHeaders } from './http/middleware/security-headers';
import { healthRoutes } from './http/routes/health';
import { metricsRoutes } from './http/routes/metrics';
import { orderRoutes } from './http/routes/orders';
import { productRoutes } from './http/routes/products';
import type { Database } from './store/database';
import { OrdersRepository } from './store/orders-repo';
import { ProductsRepository } from './store/products-repo';
import type { Logger } from './telemetry/logger';
import type { Metrics } from './telemetry/metrics';

export interface AppDeps {
  config: Pick<Config, 'metricsEnabled' | 'cacheTtlSeconds' | 'cacheServeStored' | 'service' | 'tuning' | 'untrackedPaths'>;
  db: Database;
  cache: Cache;
  logger: Logger;
  metrics: Metrics;
  /** Runs on every API route ahead of its handler, with req.route set (fault injection). */
  routeMiddleware?: RequestHandler[];
  /** Feature routers mounted after the core API (admin, DORA). */
  routers?: Router[];
  isShuttingDown?: () => boolean;
}

export interface App {
  app: Express;
  products: ProductService;
  orders: OrderService;
}

function domainEvents(metrics: Metrics): DomainEvents {
  return {
    cacheResult: (result) => metrics.cacheRequests.inc({ result }),
    orderCreated: (order) => {
      metrics.ordersCreated.inc();
      metrics.orderValue.observe(order.totalCents);
    },
    orderFailed: (reason) => metrics.ordersFailed.inc({ reason }),
  };
}

/** Builds the Express app from its dependencies; it never listens (server.ts does). */
export function createApp(deps: AppDeps): App {
  const { config, db, cache, logger, metrics } = deps;
  const events = domainEvents(metrics);
  const products = new ProductService(new ProductsRepository(db), cache, config.cacheTtlSeconds, events, config.cacheServeStored);
  const orders = new OrderService(db, new OrdersRepository(db), events, (ids) => products.invalidate(ids));

  metrics.buildInfo.set({ service: config.service.name, version: config.service.version, commit: config.service.commitSha ?? 'unknown' }, 1);
  const sampleDependencies = () => {
    const s = db.stats();
    // States that partition the pool, so a sum over them is its size (no double counting).
    metrics.dbPoolConnections.set({ state: 'idle' }, s.idle);
    metrics.dbPoolConnections.set({ state: 'in_use' }, s.total - s.idle);
    metrics.dbPoolWaiting.set(s.waiting);
    const redis = cache.connected();
    if (redis !== undefined) metrics.redisConnected.set(redis ? 1 : 0);
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  // Request id, RED metrics and the request log line: one middleware, one listener.
  app.use(observeRequests(metrics, logger, { metricsEnabled: config.metricsEnabled, untrackedPaths: config.untrackedPaths, tuning: config.tuning }));
  app.use(securityHeaders());
  app.use(refuseOptions);

  app.use(
    healthRoutes({
      version: config.service.version,
      timeoutMs: 1000,
      isShuttingDown: deps.isShuttingDown ?? (() => false),
      checks: [
        { name: 'postgres', required: true, check: () => db.ping() },
        ...(cache.kind === 'redis'
          ? [
              {
                name: 'redis',
                required: false,
                check: async () => {
                  if (!(await cache.ping())) throw new Error('no PONG');
                },
              },
            ]
          : []),
      ],
    }),
  );
  app.use(metricsRoutes(metrics, sampleDependencies));
  app.use(productRoutes(products, deps.routeMiddleware));
  app.use(orderRoutes(orders, events, deps.routeMiddleware));
  for (const router of deps.routers ?? []) app.use(router);

  app.use(notFound);
  app.use(errorHandler);
  return { app, products, orders };
}
