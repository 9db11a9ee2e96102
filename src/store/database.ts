import pg, { type PoolClient, type QueryResultRow } from 'pg';
import { AppError } from '../domain/errors';
import { isDatabaseUnavailable, isInvalidData } from './db-errors';

export interface Queryable {
  query<R extends QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
}

export interface DatabaseOptions {
  connectionString: string;
  max: number;
  /** Shown in pg_stat_activity, so a DBA sees which service holds a connection. */
  applicationName: string;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  onError?: (err: Error) => void;
}

/** A driver error as the client should see it: 503 to retry, 400 for its own bad value, else as is (a 500). */
function classified(err: unknown): never {
  if (isDatabaseUnavailable(err)) {
    throw AppError.unavailable('DATABASE_UNAVAILABLE', 'The database is unavailable; try again shortly', err);
  }
  if (isInvalidData(err)) {
    throw new AppError(400, 'INVALID_INPUT', 'a value in the request is not valid', undefined, { cause: err });
  }
  throw err;
}

/**
 * The pg Pool behind one small interface. Every failure to reach Postgres becomes
 * a 503 AppError here, and every value Postgres refuses a 400, so no caller hangs or
 * leaks a driver error to a client.
 */
export class Database implements Queryable {
  readonly pool: pg.Pool;
  /**
   * Fault injection (src/chaos) sets this to slow or fail the query path; it runs
   * before every query and transaction. Unset in normal operation: one property check.
   */
  faultHook?: () => Promise<void>;

  constructor(opts: DatabaseOptions) {
    this.pool = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.max,
      // Bounded waits: a request never hangs on a dead or overloaded database.
      connectionTimeoutMillis: opts.connectTimeoutMs,
      statement_timeout: opts.statementTimeoutMs,
      query_timeout: opts.statementTimeoutMs + 1000,
      idleTimeoutMillis: 30_000,
      application_name: opts.applicationName,
    });
    // An idle client losing its server (Postgres restarted) emits here; without a
    // listener that would crash the process. The pool drops the client by itself.
    this.pool.on('error', (err) => opts.onError?.(err));
  }

  async query<R extends QueryResultRow>(text: string, values?: unknown[]): Promise<R[]> {
    if (this.faultHook) await this.faultHook();
    try {
      const result = await this.pool.query<R>(text, values);
      return result.rows;
    } catch (err) {
      return classified(err);
    }
  }

  /** Runs fn in one transaction; rolls back on any error and rethrows it. */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    if (this.faultHook) await this.faultHook();
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      return classified(err);
    }
    const tx: Queryable = {
      query: async <R extends QueryResultRow>(text: string, values?: unknown[]) => (await client.query<R>(text, values)).rows,
    };
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      broken = isDatabaseUnavailable(err);
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      return classified(err);
    } finally {
      // A client whose connection failed mid-transaction must not go back to the pool.
      client.release(broken);
    }
  }

  /** Readiness: a trivial query (the readiness route puts the deadline on it). */
  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  stats(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
