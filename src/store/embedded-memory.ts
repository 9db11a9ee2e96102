/**
 * Performance (docs/benchmark.md, "Embedded default: memory"): what keeps the embedded
 * database small on a laptop. Switched off with EMBEDDED_LOW_MEMORY=false, which runs
 * PGlite with its own defaults.
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Postgres settings for one connection to a catalog of a few MB. PGlite's defaults size
 * shared_buffers for a server, inside the WebAssembly memory, which is then resident for
 * good; its data directory lives in memory, so WAL segments kept for reuse are memory too.
 */
export const EMBEDDED_POSTGRES_SETTINGS = [
  'shared_buffers=8MB',
  'wal_buffers=256kB',
  'temp_buffers=1MB',
  'work_mem=2MB',
  'maintenance_work_mem=8MB',
  // Two WAL segments: a checkpoint then recycles them rather than letting WAL grow to the default max_wal_size.
  'min_wal_size=32MB',
  'max_wal_size=32MB',
  'max_connections=4',
];

/**
 * Compile PGlite's WebAssembly module with V8's baseline compiler only. The optimizing
 * tier recompiles it on background threads whose allocations glibc then keeps, resident for
 * the process's life (docs/benchmark.md, "Embedded default: memory"); Postgres runs slower
 * on baseline code, which the embedded database's single connection and small catalog
 * afford. V8 reads the flag when the module is compiled, and only WebAssembly uses it.
 */
export function baselineWasmOnly(): void {
  v8.setFlagsFromString('--liftoff-only');
}

/**
 * Frees what PGlite's start leaves behind: initdb runs in a second Postgres instance whose
 * WebAssembly memory and data-directory copy, the largest part of the start's peak, are
 * garbage once the database is up, yet V8 frees them only at a full collection, which an
 * idle or lightly loaded service may not run for minutes (docs/benchmark.md, "Embedded
 * default: memory"). One collection, once, at start.
 */
export function collectStartupGarbage(): void {
  // A context created after the flag is set has gc() on its global.
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
