import express, { type Express, type RequestHandler, type Router } from 'express';
import type { Cache } from './cache/cache';
import type { Config } from './config';
import { OrderService } from './domain/orders';
import { ProductService } from './domain/products';
import type { DomainEvents } from './domain/types';
import { errorHandler, notFound } from './http/middleware/errors';
import { observeRequests } from './http/middleware/observe-request';
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
  config: Pick<Config, 'metricsEnabled' | 'cacheTtlSeconds' | 'cacheServeStored' | 'service'>;
  db: Database;
  cache: Cache;
  logger: Logger;
  metrics: Metrics;
  /** Middleware that runs before the routes (fault injection hooks in here). */
  before?: RequestHandler[];
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

  metrics.buildInfo.set({ version: config.service.version, commit: config.service.commitSha ?? 'unknown' }, 1);
  const sampleDependencies = () => {
    const s = db.stats();
    metrics.dbPoolConnections.set({ state: 'total' }, s.total);
    metrics.dbPoolConnections.set({ state: 'idle' }, s.idle);
    metrics.dbPoolWaiting.set(s.waiting);
    const redis = cache.connected();
    if (redis !== undefined) metrics.redisConnected.set(redis ? 1 : 0);
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  // Request id, RED metrics and the request log line: one middleware, one listener.
  app.use(observeRequests(metrics, config.metricsEnabled, logger));
  for (const mw of deps.before ?? []) app.use(mw);

  app.use(
    healthRoutes({
      version: config.service.version,
      timeoutMs: 1000,
      isShuttingDown: deps.isShuttingDown ?? (() => false),
      checks: [
        { name: 'postgres', required: true, check: () => db.ping(1000) },
        ...(cache.kind === 'redis'
          ? [{ name: 'redis', required: false, check: async () => { if (!(await cache.ping())) throw new Error('no PONG'); } }]
          : []),
      ],
    }),
  );
  app.use(metricsRoutes(metrics, sampleDependencies));
  app.use(productRoutes(products));
  app.use(orderRoutes(orders, events));
  for (const router of deps.routers ?? []) app.use(router);

  app.use(notFound);
  app.use(errorHandler);
  return { app, products, orders };
}
