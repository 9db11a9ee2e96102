import type { Config } from '../config';
import { AppError } from '../domain/errors';
import type { Database } from '../store/database';
import type { Logger } from '../telemetry/logger';
import { DoraRepository, type Deployment } from './repository';

const ATTEMPTS = 4;

/**
 * Right after the migrations the database can refuse a connection for a moment (the
 * embedded server takes one connection at a time and the migrator's may still be
 * closing); a few short retries ride that out without delaying a healthy start.
 */
async function withRetries<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= ATTEMPTS || !(err instanceof AppError && err.status === 503)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}

/**
 * Records the running version as a deployment, from SERVICE_VERSION, GIT_COMMIT_SHA and
 * GIT_COMMIT_TIME. Every replica calls it at start; the first one records the version
 * and the others find it there. It never fails the start: DORA is bookkeeping, not
 * something to refuse traffic over.
 */
export async function recordOwnDeployment(
  db: Database,
  config: Pick<Config, 'service'>,
  logger: Logger,
  deployedAt: Date = new Date(),
): Promise<{ deployment: Deployment; created: boolean } | undefined> {
  const s = config.service;
  const log = logger.child({ component: 'dora' });
  const repo = new DoraRepository(db);
  const record = () =>
    repo.recordDeployment({
      service: s.name,
      version: s.version,
      commitSha: s.commitSha ?? null,
      commitTime: s.commitTime ? new Date(s.commitTime) : null,
      deployedAt,
      source: 'self',
    });
  try {
    const result = await withRetries(record);
    const { deployment, created } = result;
    // Not `service`: the base logger binds that key already, and pino would write it twice.
    const fields = { deployment_service: deployment.service, version: deployment.version, commit: deployment.commitSha, deployedAt: deployment.deployedAt };
    if (!created) log.info(fields, 'DORA: this version is already recorded as a deployment');
    else if (deployment.commitTime === null) log.info(fields, 'DORA: deployment recorded without GIT_COMMIT_TIME; it counts for frequency, not lead time');
    else log.info(fields, 'DORA: deployment recorded');
    return result;
  } catch (err) {
    log.warn({ err: err instanceof Error ? err.message : String(err) }, 'DORA: could not record this deployment');
    return undefined;
  }
}
