import type { Cache } from './cache/cache';
import { MemoryCache } from './cache/memory-cache';
import { RedisCache } from './cache/redis-cache';
import type { Config } from './config';
import { Database } from './store/database';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './store/embedded-postgres';
import { migrate } from './store/migrate';
import type { Logger } from './telemetry/logger';

/** Opens the configured backends; shared by server.ts and the tests so both wire alike. */

function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

export async function openDatabase(config: Pick<Config, 'database' | 'migrateOnStart' | 'dbConnectTimeoutMs' | 'dbStatementTimeoutMs'>, logger: Logger): Promise<{ db: Database; embedded?: EmbeddedPostgres }> {
  let embedded: EmbeddedPostgres | undefined;
  let connectionString: string;
  let max: number;
  if (config.database.kind === 'embedded') {
    embedded = await startEmbeddedPostgres({ dataDir: config.database.dataDir, lowMemory: config.database.lowMemory });
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
  await embedded?.settled(2000);
  const db = new Database({
    connectionString,
    max,
    connectTimeoutMs: config.dbConnectTimeoutMs,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    onError: (err) => logger.warn({ err: err.message }, 'idle Postgres connection lost; the pool will reconnect'),
  });
  return { db, embedded };
}

export function openCache(config: Pick<Config, 'cache'>, logger: Logger): Cache {
  if (config.cache.kind === 'memory') {
    logger.info({ cache: 'memory', maxEntries: config.cache.maxEntries }, 'cache: in-memory LRU; set REDIS_URL or REDIS_HOST for Redis');
    return new MemoryCache(config.cache.maxEntries);
  }
  logger.info({ cache: 'redis', url: redactUrl(config.cache.url) }, 'cache: Redis');
  return new RedisCache({
    url: config.cache.url,
    commandTimeoutMs: config.cache.commandTimeoutMs,
    keyPrefix: config.cache.keyPrefix,
    onStateChange: (state, err) =>
      state === 'ready'
        ? logger.info('redis connected')
        : logger.warn({ err: err?.message }, 'redis unavailable; serving from Postgres until it returns'),
  });
}

