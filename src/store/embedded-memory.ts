/**
 * Performance (docs/benchmark.md, "Embedded default: memory"): what keeps the embedded
 * database small on a laptop. Switched off with EMBEDDED_LOW_MEMORY=false, which runs
 * PGlite with its own defaults.
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import type * as Ffi from 'node:ffi';

/**
 * Postgres settings for one connection to a catalog of a few MB. PGlite's defaults size
 * shared_buffers at 160 MB inside the WebAssembly memory, which is then resident for
 * good; its data directory lives in memory, so WAL segments kept for reuse are memory too.
 */
export const EMBEDDED_POSTGRES_SETTINGS = [
  'shared_buffers=8MB',
  'wal_buffers=256kB',
  'temp_buffers=1MB',
  'work_mem=2MB',
  'maintenance_work_mem=8MB',
  // Two 16 MB segments: a checkpoint then recycles them rather than keeping up to 1 GB.
  'min_wal_size=32MB',
  'max_wal_size=32MB',
  'max_connections=4',
];

/**
 * Compile PGlite's 9 MB WebAssembly module with V8's baseline compiler only. The
 * optimizing tier recompiles it on background threads whose allocations glibc then keeps
 * (about 120 MB of RSS); Postgres runs slower on baseline code, which the embedded
 * database's single connection and small catalog afford. V8 reads the flag when the
 * module is compiled, and only WebAssembly uses it.
 */
export function baselineWasmOnly(): void {
  v8.setFlagsFromString('--liftoff-only');
}

/** glibc's mallopt parameter for the size from which malloc maps memory of its own. */
const M_MMAP_THRESHOLD = -3;
const MMAP_THRESHOLD_BYTES = 32 * 1024;

/**
 * Has glibc give every allocation of 32 kB or more its own mapping, returned to the system
 * when freed. By default the threshold follows the largest block freed (up to 32 MB), so
 * PGlite's start, which mallocs and frees about 100 MB while it compiles and runs initdb,
 * leaves those pages in malloc's heaps for good. Same as the documented tunable
 * GLIBC_TUNABLES=glibc.malloc.mmap_threshold=32768, set from here because only the
 * embedded mode wants it. Needs glibc and Node's experimental node:ffi (which prints an
 * ExperimentalWarning); false, changing nothing, where either is missing.
 */
export function returnLargeAllocations(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional: absent with --no-experimental-ffi
    const ffi = require('node:ffi') as typeof Ffi;
    const { lib, functions } = ffi.dlopen('libc.so.6', { mallopt: { arguments: ['int32', 'int32'], return: 'int32' } });
    try {
      return functions.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) === 1;
    } finally {
      lib.close();
    }
  } catch {
    // musl (no libc.so.6), a Node without FFI, or the permission model without --allow-ffi.
    return false;
  }
}

/**
 * Frees what PGlite's start leaves behind: initdb runs in a second Postgres instance
 * whose WebAssembly memory and data-directory copy (about 300 MB) are garbage once the
 * database is up, yet V8 frees them only at a full collection, which an idle or lightly
 * loaded service may not run for minutes. One collection, once, at start.
 */
export function collectStartupGarbage(): void {
  // A context created after the flag is set has gc() on its global.
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
