/**
 * Whether the Postgres and Redis that `npm test` runs against answer. package.json's pretest
 * asks once (test/preflight.ts) before the build and the suite: without them every server
 * test would fail on its own with ECONNREFUSED traces, where one line can say what is
 * missing and how to get it.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { ADMIN_URL, REDIS_URL } from '../../testkit/postgres';

export interface MissingService {
  what: 'Postgres' | 'Redis';
  /** The URL asked, with any password masked. */
  url: string;
  /** The variable that points the tests elsewhere. */
  variable: 'TEST_ADMIN_DATABASE_URL' | 'TEST_REDIS_URL';
  why: string;
}

function masked(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** The reason in a few words, never a stack: a refused connection (also one per address of localhost) is the common case. */
function reason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e.code === 'ECONNREFUSED') return 'nothing listens there';
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return 'unknown host';
  const text = (e.message ?? '').split('\n')[0]?.trim();
  return text || e.code || String(err);
}

async function askPostgres(url: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  // A server that drops the connection later must not surface as an unhandled 'error'.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function askRedis(url: string, timeoutMs: number): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  // Without a listener ioredis prints "[ioredis] Unhandled error event" with a stack; the
  // socket's error is the reason, where connect() itself rejects with "Connection is closed."
  let socketError: unknown;
  client.on('error', (err: unknown) => (socketError ??= err));
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw socketError ?? err;
  } finally {
    client.disconnect();
  }
}

/** What of the tests' Postgres and Redis does not answer (empty: both do), asked side by side. */
export async function missingTestServices(opts: { adminUrl?: string; redisUrl?: string; timeoutMs?: number } = {}): Promise<MissingService[]> {
  const adminUrl = opts.adminUrl ?? ADMIN_URL;
  const redisUrl = opts.redisUrl ?? REDIS_URL;
  const timeoutMs = opts.timeoutMs ?? 3000;
  const [postgres, redis] = await Promise.allSettled([askPostgres(adminUrl, timeoutMs), askRedis(redisUrl, timeoutMs)]);
  const missing: MissingService[] = [];
  if (postgres.status === 'rejected') {
    missing.push({ what: 'Postgres', url: masked(adminUrl), variable: 'TEST_ADMIN_DATABASE_URL', why: reason(postgres.reason) });
  }
  if (redis.status === 'rejected') {
    missing.push({ what: 'Redis', url: masked(redisUrl), variable: 'TEST_REDIS_URL', why: reason(redis.reason) });
  }
  return missing;
}

/** One line: what is missing, why, and the two ways to get it. */
export function missingServicesMessage(missing: MissingService[]): string {
  const both = missing.length > 1;
  const what = missing.map((m) => `${m.what} at ${m.url} (${m.why})`).join(' and ');
  const variables = missing.map((m) => m.variable).join(' and ');
  return (
    `npm test needs ${what}: start ${both ? 'both' : 'it'} with \`bash scripts/services.sh\` (Debian or Ubuntu, as root), ` +
    `or point ${variables} at ${both ? 'ones that run' : 'one that runs'}`
  );
}
