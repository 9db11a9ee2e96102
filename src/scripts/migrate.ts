/**
 * `npm run migrate [-- up|down]`: applies (or rolls back one) migration against the
 * configured database. The service also migrates at start; this is for pipelines
 * that migrate as a separate step (MIGRATE_ON_START=false).
 */
// First: on too old a Node.js, stop with one line before any dependency loads.
import '../require-node';
import { ConfigError, loadConfig } from '../config';
import { migrate } from '../store/migrate';
import { createLogger, flushLogger } from '../telemetry/logger';

async function main(): Promise<void> {
  const direction = process.argv[2] ?? 'up';
  if (direction !== 'up' && direction !== 'down') throw new ConfigError(`unknown direction "${direction}" (use up or down)`);
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel === 'silent' ? 'info' : config.logLevel });
  if (config.database.kind !== 'postgres') {
    throw new ConfigError('npm run migrate needs DATABASE_URL or DB_HOST; the embedded database migrates itself at start');
  }
  const applied = await migrate(config.database.connectionString, logger, direction);
  logger.info({ direction, migrations: applied }, applied.length ? 'migrations done' : 'nothing to migrate');
  flushLogger(logger);
}

main().catch((err: unknown) => {
  process.stderr.write(`migrate failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
