import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config';
import type { DoraModuleOptions } from '../../src/dora';
import { createService, type Service } from '../../src/service';
import { createLogger } from '../../src/telemetry/logger';
import { LogCapture } from './log-capture';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';

export interface TestApp extends Service {
  logs: LogCapture;
  /** The test database (absent on embedded Postgres). */
  database?: TestDatabase;
}

export interface TestAppOptions {
  /** 'postgres' (default): a fresh database on 127.0.0.1; 'embedded': PGlite; or a connection URL. */
  database?: 'postgres' | 'embedded' | { url: string };
  /** 'redis' (default), 'memory', or a Redis URL (e.g. one nothing listens on). */
  cache?: 'redis' | 'memory' | { url: string };
  env?: Record<string, string>;
  /** The DORA module's clock and gauge caching. */
  dora?: DoraModuleOptions;
}

/**
 * The service as server.ts builds it (src/service.ts), on real backends, without
 * listening: supertest drives it. Each app gets its own database and Redis key prefix;
 * logs are captured instead of written.
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
  const logger = createLogger({ level: config.logLevel, destination: logs, service: config.service.name });
  // Tests on the real Redis need it connected before their first step; an unreachable
  // Redis (the resilience tests) is the point of those tests and is not waited for.
  const realRedis = opts.cache === undefined || opts.cache === 'redis';
  const service = await createService(config, { logger, dora: opts.dora, cacheReadyMs: realRedis ? 10_000 : 500 });
  if (realRedis && !service.cache.connected()) {
    await service.close();
    await database?.drop();
    throw new Error(`Redis at ${REDIS_URL} did not become ready`);
  }
  const closeService = service.close;
  return Object.assign(service, {
    logs,
    database,
    async close() {
      await closeService();
      await database?.drop();
    },
  });
}
