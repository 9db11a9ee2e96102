import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../../testkit/server-process';
import type { Endpoint, Tool } from './args';

/** What one bounded load run measured, whichever generator drove it. */
export interface LoadResult {
  requests: number;
  durationMs: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Non-2xx/3xx answers plus socket errors and timeouts. */
  errors: number;
}

export interface LoadOptions {
  tool: Tool;
  url: string;
  endpoint: Endpoint;
  connections: number;
  durationMs: number;
  /** How many product ids the order bodies rotate over. */
  products?: number;
}

export const ENDPOINT_PATH: Record<Endpoint, string> = { products: '/api/products', orders: '/api/orders' };

/** Runs a child process to completion with a hard time limit, returning its stdout. */
function run(cmd: string, args: string[], env: Record<string, string>, limitMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${path.basename(cmd)} exited with ${code ?? signal}: ${err.trim() || out.trim()}`));
    });
  });
}

interface WrkJson {
  requests: number;
  duration_us: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latency_us: { p50: number; p99: number; max: number };
}

async function runWrk(o: LoadOptions): Promise<LoadResult> {
  const seconds = Math.max(1, Math.round(o.durationMs / 1000));
  const out = await run(
    'wrk',
    ['-t1', `-c${o.connections}`, `-d${seconds}s`, '--timeout', '5s', '-s', 'bench/wrk/request.lua', `${o.url}${ENDPOINT_PATH[o.endpoint]}`],
    { BENCH_ORDERS: o.endpoint === 'orders' ? '1' : '0', BENCH_PRODUCTS: String(o.products ?? 20) },
    o.durationMs + 15_000,
  );
  const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`wrk printed no result: ${out}`);
  const r = JSON.parse(line.slice('BENCH_JSON '.length)) as WrkJson;
  const e = r.errors;
  return {
    requests: r.requests,
    durationMs: r.duration_us / 1000,
    rps: r.requests / (r.duration_us / 1e6),
    p50Ms: r.latency_us.p50 / 1000,
    p99Ms: r.latency_us.p99 / 1000,
    maxMs: r.latency_us.max / 1000,
    errors: e.connect + e.read + e.write + e.status + e.timeout,
  };
}

async function runAutocannon(o: LoadOptions): Promise<LoadResult> {
  const out = await run(
    process.execPath,
    ['--import', 'tsx', 'bench/lib/autocannon-child.ts'],
    {
      BENCH_URL: `${o.url}${ENDPOINT_PATH[o.endpoint]}`,
      BENCH_ORDERS: o.endpoint === 'orders' ? '1' : '0',
      BENCH_PRODUCTS: String(o.products ?? 20),
      BENCH_CONNECTIONS: String(o.connections),
      BENCH_DURATION_S: String(Math.max(1, Math.round(o.durationMs / 1000))),
    },
    o.durationMs + 30_000,
  );
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as LoadResult;
}

/** Drives load from a separate process (never from the bench's own event loop). */
export function drive(o: LoadOptions): Promise<LoadResult> {
  return o.tool === 'wrk' ? runWrk(o) : runAutocannon(o);
}
