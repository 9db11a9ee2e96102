import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, ROOT } from '../../testkit/server-process';

/**
 * The built service as `npm start` runs it (register first, then dist/server.js), one
 * process per mode. Unlike the tests' startServerProcess, stdout is piped and thrown
 * away unread: parsing thousands of log lines a second would steal CPU from the
 * service being measured, on a 2-core machine.
 */
export interface Service {
  url: string;
  pid: number;
  child: ChildProcess;
  stderr: string[];
  stop(): Promise<number | null>;
}

export interface ServiceOptions {
  env: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  timeoutMs?: number;
  /** The checkout to run (default: this one). */
  cwd?: string;
  /** What node runs after the flags (default: the service as npm start runs it: its preloads, the telemetry register, dist/server.js). */
  script?: string[];
  /** Polled until it answers 2xx (default: the service's readiness check). */
  readyPath?: string;
  /** The node binary (default: the one running the bench). */
  execPath?: string;
}

/** Services still running, so a signal to the bench alone does not leave them behind. */
const running = new Set<ChildProcess>();
/** What else a signal must undo (the bench's database and Redis keys), newest first. */
const cleanups: (() => Promise<void>)[] = [];
let signalsHandled = false;
let stopping = false;

/**
 * On SIGINT or SIGTERM, stop every service still running, run the cleanups registered
 * with onInterrupt (5 s at most), then exit as the signal would have. Ctrl-C reaches the
 * whole process group anyway; `kill <bench pid>` reaches only the bench, and left its
 * services up, idle but holding memory, and its database behind.
 */
function stopServicesOnSignal(): void {
  if (signalsHandled) return;
  signalsHandled = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      stopping = true;
      for (const child of running) child.kill('SIGKILL');
      const undo = (async () => {
        for (const cleanup of cleanups) await cleanup().catch(() => undefined);
      })();
      void Promise.race([undo, sleep(5000)]).then(() => process.exit(code));
    });
  }
}

/**
 * True once a SIGINT or SIGTERM is being handled: the run then fails as its services go, and
 * must leave the exit (and its code) to the handler, which is still undoing.
 */
export function interrupted(): boolean {
  return stopping;
}

/** Registers what a SIGINT or SIGTERM to the bench must undo before it exits. */
export function onInterrupt(cleanup: () => Promise<void>): void {
  stopServicesOnSignal();
  cleanups.unshift(cleanup);
}

export async function startService(opts: ServiceOptions): Promise<Service> {
  stopServicesOnSignal();
  const port = await freePort();
  const script = opts.script ?? [...startPreloads(opts.cwd ?? ROOT), '--require', './dist/telemetry/register.js', 'dist/server.js'];
  const child = spawn(opts.execPath ?? process.execPath, [...(opts.nodeArgs ?? []), ...script], {
    cwd: opts.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.resume();
  const stderr: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 200) stderr.push(d);
  });
  running.add(child);
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const readyPath = opts.readyPath ?? '/health/ready';
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode} before it answered; stderr: ${stderr.join('')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`service did not answer ${readyPath} in time; stderr: ${stderr.join('')}`);
    }
    const ok = await fetch(`${url}${readyPath}`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await sleep(100);
  }
  return {
    url,
    pid: child.pid ?? 0,
    child,
    stderr,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const code = await exit;
        clearTimeout(killer);
        return code;
      }
      return exit;
    },
  };
}

/** The node options of `npm start`: the tokens between `node` and the script, split into flags and --require modules. */
function startNodeOptions(serviceDir: string): { flags: string[]; requires: string[] } {
  const pkg = JSON.parse(readFileSync(path.join(serviceDir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const tokens = (pkg.scripts?.start ?? '').split(/\s+/).filter(Boolean);
  const flags: string[] = [];
  const requires: string[] = [];
  for (let i = tokens.indexOf('node') + 1; i > 0 && i < tokens.length; i++) {
    const t = tokens[i] ?? '';
    if (!t.startsWith('-')) break;
    if (t === '--require' || t === '-r') requires.push(tokens[++i] ?? '');
    else flags.push(t);
  }
  return { flags, requires };
}

/**
 * The node flags `npm start` runs the service with (the tokens between `node` and the
 * script, minus --require and its module), so the bench measures what is deployed.
 */
export function startFlags(serviceDir: string): string[] {
  return startNodeOptions(serviceDir).flags;
}

/**
 * The modules `npm start` preloads before the telemetry bootstrap (`--require`), as
 * startService's default script runs them: src/tuning/relaunch.ts, which executes the service
 * again with glibc's malloc tunable. None for a build whose start script has none.
 */
export function startPreloads(serviceDir: string): string[] {
  const { requires } = startNodeOptions(serviceDir);
  const telemetry = requires.indexOf('./dist/telemetry/register.js');
  return (telemetry < 0 ? requires : requires.slice(0, telemetry)).flatMap((module) => ['--require', module]);
}

/** Resident set size of a process in MB, from /proc (Linux); undefined once it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

const CLK_TCK = 100; // USER_HZ: /proc reports CPU time in these ticks on every Linux architecture node supports

/** CPU time (user + system, all threads) a process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name, which may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** Samples RSS every intervalMs until stopped; returns the samples with their time offsets. */
export function sampleRss(pid: number, intervalMs: number): { stop(): { atMs: number; mb: number }[] } {
  const samples: { atMs: number; mb: number }[] = [];
  const t0 = Date.now();
  const take = () => {
    const mb = rssMb(pid);
    if (mb !== undefined) samples.push({ atMs: Date.now() - t0, mb });
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** The service's own default (DB_POOL_MAX). */
const DEFAULT_POOL_MAX = 10;

/**
 * DB_POOL_MAX for each of `services` processes running at once against one Postgres, so
 * that together they stay within max_connections (less its reserved slots and `spare`
 * for the bench's own clients). Every mode of both builds is up throughout a process
 * set: 12 services at the default pool of 10 outgrow a stock max_connections of 100, and
 * the last to connect answer with errors. Undefined when the default fits.
 */
export function poolMaxFor(services: number, maxConnections: number, reserved: number, spare = 5): number | undefined {
  const each = Math.floor((maxConnections - reserved - spare) / services);
  if (each >= DEFAULT_POOL_MAX) return undefined;
  if (each < 2) throw new Error(`Postgres allows ${maxConnections} connections: too few for ${services} services (raise max_connections or run fewer modes)`);
  return each;
}
