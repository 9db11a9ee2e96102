import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../domain/errors';
import type { Database } from '../store/database';
import { annotateSpan } from '../telemetry/tracer';
import { CHAOS_SPAN_ATTRIBUTE } from './faults';
import type { ChaosMetrics } from './metrics';
import type { ChaosState } from './state';

/**
 * Slows or fails the database path through Database's fault hook. The hook is only
 * installed while a database fault is on, so a normal query pays one property check.
 * Applies to every query, not only those of matching routes: a slow or failing
 * database hurts the whole service, and the alerts should see it that way.
 */
export function hookDatabase(db: Database, state: ChaosState, metrics: ChaosMetrics): void {
  const hook = async () => {
    const { dbSlowMs, dbErrorRate } = state.faults;
    if (dbSlowMs > 0) {
      metrics.injected('db_slow');
      annotateSpan({ [CHAOS_SPAN_ATTRIBUTE]: 'db_slow' });
      await sleep(dbSlowMs);
    }
    if (dbErrorRate > 0 && Math.random() < dbErrorRate) {
      metrics.injected('db_error');
      annotateSpan({ [CHAOS_SPAN_ATTRIBUTE]: 'db_error' });
      // Exactly what an unreachable Postgres produces (503 DATABASE_UNAVAILABLE), so
      // clients, logs and alerts see a realistic outage.
      throw AppError.unavailable(
        'DATABASE_UNAVAILABLE',
        'The database is unavailable; try again shortly',
        new Error('fault injected: database error (dbErrorRate)'),
      );
    }
  };
  const sync = () => {
    db.faultHook = state.dbFaults ? hook : undefined;
  };
  state.onChange(sync);
  sync();
}
