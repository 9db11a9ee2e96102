/**
 * The process: reads config, starts the real dependencies, listens, and shuts down
 * in order (stop accepting, finish in-flight requests, close pool and Redis, flush
 * telemetry). Started as `node --require ./dist/telemetry/register.js dist/server.js`.
 */
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import type { Cache } from './cache/cache';
import { MemoryCache } from './cache/memory-cache';
import { RedisCache } from './cache/redis-cache';
import { ConfigError, loadConfig, type Config } from './config';
import { Database } from './store/database';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './store/embedded-postgres';
import { migrate } from './store/migrate';
import { shutdownTelemetry } from './telemetry/lifecycle';
import { createLogger, flushLogger, type Logger } from './telemetry/logger';
import { createMetrics } from './telemetry/metrics';

function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

async function openDatabase(config: Config, logger: Logger): Promise<{ db: Database; embedded?: EmbeddedPostgres }> {
  let embedded: EmbeddedPostgres | undefined;
  let connectionString: string;
  let max: number;
  if (config.database.kind === 'embedded') {
    embedded = await startEmbeddedPostgres(config.database.dataDir);
    connectionString = embedded.connectionString;
    // PGlite is single-connection: one pooled client, requests queue for it.
    max = 1;
    logger.info({ database: 'embedded', dataDir: config.database.dataDir ?? 'in-memory' }, 'database: embedded Postgres (PGlite); set DATABASE_URL or DB_HOST for a real server');
  } else {
    connectionString = config.database.connectionString;
    max = config.database.poolMax;
    logger.info({ database: 'postgres', url: redactUrl(connectionString), poolMax: max }, 'database: Postgres');
  }
  if (config.migrateOnStart) await migrate(connectionString, logger);
  const db = new Database({
    connectionString,
    max,
    connectTimeoutMs: config.dbConnectTimeoutMs,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    onError: (err) => logger.warn({ err: err.message }, 'idle Postgres connection lost; the pool will reconnect'),
  });
  return { db, embedded };
}

function openCache(config: Config, logger: Logger): Cache {
  if (config.cache.kind === 'memory') {
    logger.info({ cache: 'memory', maxEntries: config.cache.maxEntries }, 'cache: in-memory LRU; set REDIS_URL or REDIS_HOST for Redis');
    return new MemoryCache(config.cache.maxEntries);
  }
  logger.info({ cache: 'redis', url: redactUrl(config.cache.url) }, 'cache: Redis');
  return new RedisCache({
    url: config.cache.url,
    commandTimeoutMs: config.cache.commandTimeoutMs,
    onStateChange: (state, err) =>
      state === 'ready'
        ? logger.info('redis connected')
        : logger.warn({ err: err?.message }, 'redis unavailable; serving from Postgres until it returns'),
  });
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, file: config.logFile, service: config.service.name });
  logger.info({ version: config.service.version, commit: config.service.commitSha, environment: config.service.environment }, 'starting cloudmart');

  const { db, embedded } = await openDatabase(config, logger);
  const cache = openCache(config, logger);
  const metrics = createMetrics();
  let shuttingDown = false;
  const { app } = createApp({ config, db, cache, logger, metrics, isShuttingDown: () => shuttingDown });

  const server = app.listen(config.port, config.host);
  server.requestTimeout = config.requestTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  logger.info({ port: address.port, host: address.address }, `listening on http://localhost:${address.port}`);

  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed; closing remaining connections');
      server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    deadline.unref();
    // close() waits for in-flight requests; idle keep-alive sockets are closed now
    // so they do not hold the server open.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
    clearTimeout(deadline);
    await Promise.allSettled([db.close(), cache.close()]);
    await embedded?.stop();
    await shutdownTelemetry();
    logger.info('shutdown complete');
    flushLogger(logger);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`cloudmart failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
