import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import type { Summary } from '../../bench/lib/report';
import { rssMb } from '../../bench/lib/service';
import { sql, ADMIN_URL } from '../../testkit/postgres';
import { ROOT } from '../../testkit/server-process';
import { requireTool } from '../helpers/tools';

/**
 * The benchmarks themselves, run as people run them but as short as they go: one round of
 * one-second slices. Nothing here judges speed (the machine is too noisy for timed
 * assertions); it checks that the runners work end to end and that what the receivers
 * decode is right: spans per request come from real OTLP/protobuf exports, counted.
 */
interface TsxRun {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Resolves when it exits (killed after limitMs), with everything it printed. */
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function startTsx(args: string[], limitMs: number): TsxRun {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, exited };
}

function runTsx(args: string[], limitMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return startTsx(args, limitMs).exited;
}

describe('the benchmarks, one short round', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cloudmart-bench-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('When npm run bench runs bare, unsampled and full, then full exports 2 spans per cached list and unsampled none', async () => {
    const out = path.join(dir, 'bench.json');
    const r = await runTsx(
      [
        'bench/run.ts',
        '--modes',
        'unsampled,full',
        '--endpoints',
        'products',
        '--rounds',
        '1',
        '--duration',
        '1s',
        '--warmup',
        '1s',
        '--long-run',
        '0',
        '--embedded',
        '0',
        '--metrics-samples',
        '3',
        '--out',
        out,
      ],
      120_000,
    );
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    const { summaries } = JSON.parse(readFileSync(out, 'utf8')) as { summaries: Summary[] };
    const by = new Map(summaries.map((s) => [s.mode, s]));
    assert.deepEqual([...by.keys()], ['bare', 'unsampled', 'full']);
    for (const s of summaries) assert.equal(s.errors, 0, `${s.mode} answered without errors`);
    // Every cached request sent (warm-up included) is a trace of the server span and one Redis
    // MGET; the first request of each process misses the cache and adds Postgres and SET spans.
    const full = by.get('full')?.spansPerRequest ?? NaN;
    assert.ok(full >= 2 && full < 2.05, `full: ${full} spans per request`);
    assert.equal(by.get('unsampled')?.spansPerRequest, 0);
    assert.match(r.stdout, /throughput ≥ 0\.5× bare/);
  });

  test('When npm run bench:floor runs, then the one-span mode exports exactly one span per request and its unsampled twin none', async (t) => {
    // The floor drives plain node:http apps with wrk only.
    if (!requireTool('wrk', t)) return;
    const r = await runTsx(['bench/floor.ts', '--rounds', '1', '--duration', '1s'], 120_000);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    const [header, ...body] = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('| ') && !l.startsWith('|---'))
      .map((l) => l.split('|').map((c) => c.trim()));
    const [mode, spans] = ['mode', 'spans/req'].map((name) => header?.indexOf(name) ?? -1);
    assert.ok(mode !== undefined && mode > 0 && spans !== undefined && spans > 0, `a table with mode and spans/req: ${r.stdout.slice(-2000)}`);
    const rows = new Map(body.map((cells) => [cells[mode], cells[spans]] as const));
    assert.deepEqual([...rows.keys()], ['bare', 'http-span-unsampled', 'http-span', 'auto-default']);
    assert.equal(rows.get('bare'), '–');
    assert.equal(rows.get('http-span-unsampled'), '0.00', 'an unsampled tracer exports nothing');
    assert.equal(rows.get('http-span'), '1.00');
    assert.ok(Number(rows.get('auto-default')) >= 1, 'auto-instrumentation exports spans too');
  });

  test('When the bench alone gets SIGTERM mid-run, then it stops its services, drops its database and exits 143', async () => {
    const { child, exited } = startTsx(
      ['bench/run.ts', '--modes', 'bare', '--endpoints', 'products', '--rounds', '8', '--duration', '2s', '--long-run', '0', '--embedded', '0'],
      120_000,
    );
    let output = '';
    const measuring = new Promise<void>((resolve) => {
      for (const stream of [child.stdout, child.stderr])
        stream.on('data', (d: string) => {
          output += d;
          if (/round 1 /.test(output)) resolve();
        });
    });
    await Promise.race([measuring, exited]);
    const pid = child.pid ?? NaN;
    const services = execFileSync('pgrep', ['-P', String(pid), '-f', 'dist/server.js'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
    const databases = () => sql<{ datname: string }>(ADMIN_URL, 'SELECT datname FROM pg_database WHERE datname LIKE $1', [`cloudmart_bench_${pid}_%`]);
    assert.equal(services.length, 1, `bare's service is up: ${output.slice(-1000)}`);
    assert.equal((await databases()).length, 1, 'the bench made its database');

    child.kill('SIGTERM');
    const { code } = await exited;
    assert.equal(code, 143, output.slice(-2000));
    // No VmRSS once a process is gone, or a zombie its parent never reaped.
    for (const p of services) assert.equal(rssMb(p), undefined, `service ${p} is gone`);
    assert.deepEqual(await databases(), []);
  });
});
