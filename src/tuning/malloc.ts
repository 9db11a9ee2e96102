/**
 * Performance (docs/benchmark.md, "What the tuning buys" and "Large allocations back to the
 * system"): glibc returns freed large blocks to the system instead of keeping them.
 */
import type * as Ffi from 'node:ffi';

/** glibc's mallopt parameter for the size from which malloc maps memory of its own. */
const M_MMAP_THRESHOLD = -3;
const MMAP_THRESHOLD_BYTES = 32 * 1024;

/**
 * Has glibc give every allocation of 32 kB or more its own mapping, returned to the system
 * when freed. By default the threshold rises to the largest block freed, so after a few
 * large blocks come and go, later ones are carved from malloc's heaps and their pages stay
 * resident, under full telemetry and, most of all, after PGlite's start in the embedded mode
 * (docs/benchmark.md, "Freed memory back to the system"). The same as
 * glibc's documented tunable GLIBC_TUNABLES=glibc.malloc.mmap_threshold=32768 (which the
 * image sets), set from here so that `npm start` needs no environment and the switch stays
 * CLOUDMART_TUNING (and EMBEDDED_LOW_MEMORY). Needs glibc and Node's experimental node:ffi,
 * which prints one ExperimentalWarning; returns false, changing nothing, where either is
 * missing.
 */
export function returnLargeAllocations(): boolean {
  if (process.platform !== 'linux') return false;
  // Already set for the whole process by its environment (the image does): nothing to do,
  // and no warning on a stderr that the log pipeline expects empty.
  if (/\bglibc\.malloc\.mmap_threshold=/.test(process.env.GLIBC_TUNABLES ?? '')) return true;
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
