/**
 * Performance (docs/benchmark.md, "What the tuning buys" and "Large allocations back to the
 * system"): glibc returns freed large blocks to the system instead of keeping them.
 *
 * Has glibc give every allocation of 32 kB or more its own mapping, returned to the system
 * when freed. By default the threshold rises to the largest block freed, so after a few
 * large blocks come and go, later ones are carved from malloc's heaps and their pages stay
 * resident, under full telemetry and, most of all, after PGlite's start in the embedded mode
 * (docs/benchmark.md, "Freed memory back to the system"). It is glibc's documented tunable,
 * which glibc reads once, when the process is executed: the image sets it in its environment,
 * and `npm start` loads relaunch.ts first, which executes the same process again (same pid,
 * same arguments) with the tunable added when the service wants it and it is not set. No
 * experimental API, so no ExperimentalWarning on a stderr the log pipeline expects empty.
 */
import type { Config } from '../config';

/** glibc's tunable for M_MMAP_THRESHOLD: the size from which malloc maps memory of its own, fixed at 32 kB. */
export const MMAP_THRESHOLD_TUNABLE = 'glibc.malloc.mmap_threshold=32768';

type Env = Record<string, string | undefined>;

let glibc: boolean | undefined;

/** Whether this process runs on glibc (not musl, not another system): its report says. */
function onGlibc(): boolean {
  if (glibc === undefined) {
    if (process.platform !== 'linux') return (glibc = false);
    // Without the network section: no reverse lookups of open sockets' addresses.
    const report = process.report as typeof process.report & { excludeNetwork: boolean };
    const excludeNetwork = report.excludeNetwork;
    report.excludeNetwork = true;
    try {
      const header = (report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
      glibc = Boolean(header?.glibcVersionRuntime);
    } finally {
      report.excludeNetwork = excludeNetwork;
    }
  }
  return glibc;
}

/** Whether GLIBC_TUNABLES in env fixes malloc's mmap threshold (to this or any size). */
function tunableSet(env: Env): boolean {
  return /(^|:)glibc\.malloc\.mmap_threshold=/.test(env.GLIBC_TUNABLES ?? '');
}

/**
 * Whether glibc returns this process's large allocations to the system: it runs on glibc and
 * was executed with the threshold in GLIBC_TUNABLES (by the image, or by relaunch.ts).
 */
export function returnsLargeAllocations(env: Env = process.env): boolean {
  return tunableSet(env) && onGlibc();
}

/** Whether the service wants the setting: CLOUDMART_TUNING, or the embedded database's EMBEDDED_LOW_MEMORY. */
export function wantsLargeAllocationsReturned(config: Pick<Config, 'tuning' | 'database'>): boolean {
  return config.tuning || (config.database.kind === 'embedded' && config.database.lowMemory);
}

/** env with the threshold added to whatever GLIBC_TUNABLES already holds (colon-separated). */
export function withLargeAllocationsReturned(env: Env): Env {
  const tunables = env.GLIBC_TUNABLES ? `${env.GLIBC_TUNABLES}:${MMAP_THRESHOLD_TUNABLE}` : MMAP_THRESHOLD_TUNABLE;
  return { ...env, GLIBC_TUNABLES: tunables };
}

/**
 * Executes this process again, in place (process.execve: same pid, arguments, Node flags and
 * environment), with the threshold added to GLIBC_TUNABLES, when the service wants it and it
 * is not set yet. Returns only when it does not (set already, not wanted, not glibc, or no
 * execve: Windows, or the permission model refusing it); the new process then finds the
 * tunable set and goes on. Call it before anything else loads: what ran before is run again.
 */
export function relaunchReturningLargeAllocations(config: Pick<Config, 'tuning' | 'database'>): void {
  if (!wantsLargeAllocationsReturned(config) || tunableSet(process.env) || !onGlibc()) return;
  if (typeof process.execve !== 'function') return;
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], withLargeAllocationsReturned(process.env));
  } catch {
    // Not permitted (--permission without --allow-child-process): run without the setting.
  }
}
