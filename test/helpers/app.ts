import { randomBytes } from 'node:crypto';
import type { Express, RequestHandler, Router } from 'express';
import { createApp } from '../../src/app';
import type { Cache } from '../../src/cache/cache';
import { loadConfig, type Config } from '../../src/config';
import { openCache, openDatabase } from '../../src/dependencies';
import type { Database } from '../../src/store/database';
import { createLogger, type Logger } from '../../src/telemetry/logger';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics';
import { LogCapture } from './log-capture';
import { createTestDatabase, REDIS_URL, type TestDatabase } from './postgres';

export interface TestApp {
  app: Express;
  config: Config;
  db: Database;
  cache: Cache;
  metrics: Metrics;
  logger: Logger;
  logs: LogCapture;
  /** The test database (absent on embedded Postgres). */
  database?: TestDatabase;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** 'postgres' (default): a fresh database on 127.0.0.1; 'embedded': PGlite; or a connection URL. */
  database?: 'postgres' | 'embedded' | { url: string };
  /** 'redis' (default), 'memory', or a Redis URL (e.g. one nothing listens on). */
  cache?: 'redis' | 'memory' | { url: string };
  env?: Record<string, string>;
  before?: (deps: { config: Config; db: Database; metrics: Metrics; logger: Logger; cache: Cache }) => RequestHandler[];
  routers?: (deps: { config: Config; db: Database; metrics: Metrics; logger: Logger; cache: Cache }) => Router[];
  /** Decorates the cache before the app is built, as server.ts lets fault injection do; runs before `before`. */
  wrapCache?: (cache: Cache, deps: { config: Config; db: Database; metrics: Metrics; logger: Logger }) => Cache;
}

/**
 * The real app on real backends, built the way server.ts builds it, without
 * listening: supertest drives it. Each app gets its own database and Redis key prefix.
 */
export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const database = opts.database === undefined || opts.database === 'postgres' ? await createTestDatabase() : undefined;
  const dbUrl = database?.url ?? (typeof opts.database === 'object' ? opts.database.url : undefined);
  const cacheUrl = opts.cache === 'memory' ? undefined : typeof opts.cache === 'object' ? opts.cache.url : REDIS_URL;
  const config = loadConfig({
    LOG_LEVEL: 'debug',
    ...(dbUrl ? { DATABASE_URL: dbUrl } : {}),
    ...(cacheUrl ? { REDIS_URL: cacheUrl } : {}),
    REDIS_KEY_PREFIX: `cloudmart-test:${randomBytes(4).toString('hex')}:`,
    DB_CONNECT_TIMEOUT_MS: '1000',
    DORA_RECORD_DEPLOYMENT: 'false',
    ...opts.env,
  });
  const logs = new LogCapture();
  const logger = createLogger({ level: config.logLevel, destination: logs });
  const { db, embedded } = await openDatabase(config, logger);
  const metrics = createMetrics();
  const opened = openCache(config, logger);
  const cache = opts.wrapCache ? opts.wrapCache(opened, { config, db, metrics, logger }) : opened;
  // Tests on the real Redis need it connected before their first step; an unreachable
  // Redis (the resilience tests) is the point of those tests and is not waited for.
  const realRedis = opts.cache === undefined || opts.cache === 'redis';
  if (!(await opened.ready(realRedis ? 10_000 : 500)) && realRedis) throw new Error(`Redis at ${REDIS_URL} did not become ready`);
  const deps = { config, db, metrics, logger, cache };
  const { app } = createApp({ ...deps, before: opts.before?.(deps), routers: opts.routers?.(deps) });
  return {
    app,
    config,
    db,
    cache,
    metrics,
    logger,
    logs,
    database,
    async close() {
      await Promise.allSettled([db.close(), cache.close()]);
      await embedded?.stop();
      await database?.drop();
    },
  };
}
