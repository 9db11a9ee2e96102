import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, ROOT } from '../../testkit/server-process';
import { rssMb, sampleRss, startService } from './service';

/** The embedded default's memory: `npm start` with no database or cache configured. */
export interface EmbeddedRssResult {
  /** The mode label's suffix: "" for this build, "@baseline" for the other. */
  build: string;
  startSeconds: number;
  /** VmHWM at the end of the start: what initdb and the first compile peaked at. */
  startPeakMb: number;
  /** After a few first requests and 10 s without load. */
  idleMb: number;
  /** Max over the browse scenario, sampled every 500 ms. */
  loadMaxMb: number;
  /** 10 s after the load. */
  afterMb: number;
  rps: number;
  errors: number;
}

function vmHwmMb(pid: number): number {
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** `npm run load -- browse --json` against url, bounded in time; its summary's rate and errors. */
function browse(url: string, durationMs: number): Promise<{ rps: number; errors: number }> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', 'load/cli.ts', 'browse', '--url', url, '--duration', `${Math.round(durationMs / 1000)}s`, '--json'];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), durationMs + 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      try {
        const s = JSON.parse(out) as { requests: { perSecond: number }; errors: Record<string, number> };
        resolve({ rps: s.requests.perSecond, errors: Object.values(s.errors).reduce((a, b) => a + b, 0) });
      } catch {
        reject(new Error(`browse load exited with ${code}: ${err.slice(0, 2000)}`));
      }
    });
  });
}

/**
 * Starts one build's service on its embedded defaults (PGlite, in-memory cache; tracing
 * as `npm start` would, to a dead port), then reads its RSS idle, under the browse
 * scenario and after it.
 */
export async function measureEmbedded(
  dir: string,
  nodeFlags: string[],
  build: string,
  loadMs: number,
  env: Record<string, string> = {},
  execPath?: string,
): Promise<EmbeddedRssResult> {
  const dead = await freePort();
  const t0 = Date.now();
  const service = await startService({
    cwd: dir,
    execPath,
    nodeArgs: nodeFlags,
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${dead}`, ...env },
    timeoutMs: 180_000,
  });
  try {
    const startSeconds = (Date.now() - t0) / 1000;
    const startPeakMb = vmHwmMb(service.pid);
    for (const p of ['/api/products', '/api/products/1', '/api/products?category=books', '/api/products?q=coffee']) {
      for (let i = 0; i < 3; i++) await fetch(`${service.url}${p}`).then((r) => r.arrayBuffer());
    }
    await sleep(10_000);
    const idleMb = rssMb(service.pid) ?? NaN;
    const sampler = sampleRss(service.pid, 500);
    const load = await browse(service.url, loadMs);
    const loadMaxMb = sampler.stop().reduce((m, s) => Math.max(m, s.mb), 0);
    await sleep(10_000);
    const afterMb = rssMb(service.pid) ?? NaN;
    return { build, startSeconds, startPeakMb, idleMb, loadMaxMb, afterMb, rps: load.rps, errors: load.errors };
  } finally {
    await service.stop();
  }
}
