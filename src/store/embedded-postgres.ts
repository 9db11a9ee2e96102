/**
 * Embedded Postgres for a machine with nothing installed: PGlite (Postgres compiled
 * to WebAssembly) behind pglite-socket, which speaks the Postgres wire protocol on a
 * loopback port. The service then reaches it through the same pg Pool, the same SQL
 * and the same pg instrumentation as a real server.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { returnsLargeAllocations } from '../tuning/malloc';
import { baselineWasmOnly, collectStartupGarbage, EMBEDDED_POSTGRES_SETTINGS } from './embedded-memory';

export interface EmbeddedPostgres {
  connectionString: string;
  /** Whether glibc returns PGlite's large allocations to the system (tuning/malloc.ts: set when the process started). */
  returnsLargeAllocations: boolean;
  /**
   * Call once the start's own connections (the migrations') are done: resolves when no
   * client is connected (or after timeoutMs), since the bridge takes one connection at a
   * time and turns away the next while the last is still closing; then frees what the
   * start left behind (embedded-memory.ts).
   */
  settled(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir?: string;
  /** Smaller Postgres settings and WebAssembly code (embedded-memory.ts); false: PGlite's defaults. */
  lowMemory?: boolean;
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
  const lowMemory = opts.lowMemory ?? true;
  const returnsLarge = lowMemory && returnsLargeAllocations();
  if (lowMemory) baselineWasmOnly();
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create({
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    ...(lowMemory ? { postgresqlconf: EMBEDDED_POSTGRES_SETTINGS } : {}),
  });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  // getServerConn() answers "host:port" with the port the OS assigned.
  const connectionString = `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
  return {
    connectionString,
    returnsLargeAllocations: returnsLarge,
    async settled(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (server.getStats().activeConnections > 0 && Date.now() < deadline) await sleep(10);
      if (lowMemory) collectStartupGarbage();
    },
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
