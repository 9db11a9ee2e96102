import path from 'node:path';
import type { Logger } from '../telemetry/logger';

export const MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', 'migrations');

/**
 * Applies pending migrations from migrations/ with node-pg-migrate. Its advisory
 * lock, in "wait" mode, makes two replicas starting at once take turns instead of
 * racing (or the second one failing).
 */
export async function migrate(databaseUrl: string, logger: Logger, direction: 'up' | 'down' = 'up'): Promise<string[]> {
  const { runner } = await import('node-pg-migrate');
  const log = logger.child({ component: 'migrate' });
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction,
    count: direction === 'up' ? Infinity : 1,
    migrationsTable: 'pgmigrations',
    advisoryLockMode: 'wait',
    checkOrder: true,
    singleTransaction: true,
    // Pairs NNNN_name.up.sql with NNNN_name.down.sql (the legacy loader runs each file as its own migration).
    migrationLoaderStrategies: [{ extensions: ['.sql'], loader: 'sql' }],
    logger: {
      debug: (msg: string) => log.debug(msg),
      info: (msg: string) => log.debug(msg),
      warn: (msg: string) => log.warn(msg),
      error: (msg: string) => log.error(msg),
    },
  });
  const names = applied.map((m) => m.name);
  if (names.length) log.info({ migrations: names }, `applied ${names.length} migration(s)`);
  return names;
}
