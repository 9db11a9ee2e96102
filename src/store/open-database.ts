import type { Config } from '../config';
import type { Logger } from '../telemetry/logger';
import { redactUrl } from '../telemetry/redact-url';
import { Database } from './database';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';
import { migrate } from './migrate';

export interface OpenedDatabase {
  db: Database;
  /** Set when no database is configured and PGlite runs in-process. */
  embedded?: EmbeddedPostgres;
}

/** Opens the configured Postgres (or starts the embedded one) and migrates it. */
export async function openDatabase(
  config: Pick<Config, 'database' | 'migrateOnStart' | 'dbConnectTimeoutMs' | 'dbStatementTimeoutMs' | 'service'>,
  logger: Logger,
): Promise<OpenedDatabase> {
  let embedded: EmbeddedPostgres | undefined;
  let connectionString: string;
  let max: number;
  if (config.database.kind === 'embedded') {
    embedded = await startEmbeddedPostgres({ dataDir: config.database.dataDir, lowMemory: config.database.lowMemory });
    connectionString = embedded.connectionString;
    // PGlite is single-connection: one pooled client, requests queue for it.
    max = 1;
    logger.info(
      {
        database: 'embedded',
        dataDir: config.database.dataDir ?? 'in-memory',
        lowMemory: config.database.lowMemory,
        returnsLargeAllocations: embedded.returnsLargeAllocations,
      },
      'database: embedded Postgres (PGlite); set DATABASE_URL or DB_HOST for a real server',
    );
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
    applicationName: config.service.name,
    connectTimeoutMs: config.dbConnectTimeoutMs,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    onError: (err) => logger.warn({ err: err.message }, 'idle Postgres connection lost; the pool will reconnect'),
  });
  return { db, embedded };
}
