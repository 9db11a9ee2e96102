/**
 * `npm run load` end to end: the CLI as a child process against the built service
 * (dist/server.js, `npm run build` first) on real Postgres and Redis, on loopback.
 * Every run is 2 s at the scenario's own pace, so the file stays well under 30 s.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Summary } from '../../load/summary';
import { sampleFrom } from '../helpers/metrics-text';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';
import { ROOT, startServerProcess, type ServerProcess } from '../../testkit/server-process';

const TOKEN = 'load-test-chaos-token-0123';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(
  args: string[],
  opts: { env?: Record<string, string>; onStderr?: (text: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'load/cli.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    opts.onStderr?.(stderr, child);
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

function summaryOf(run: CliRun): Summary {
  assert.ok(run.stdout.trim().startsWith('{'), `no JSON summary; exit ${run.code}; stderr:\n${run.stderr}`);
  return JSON.parse(run.stdout) as Summary;
}

describe('npm run load against the real service', () => {
  let database: TestDatabase;
  let server: ServerProcess;
  const chaosState = async () =>
    (await (await fetch(`${server.url}/api/admin/chaos`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as { active: string[] };
  const injectedErrors = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return sampleFrom(text, 'cloudmart_chaos_injected_total', { fault: 'error' }) ?? NaN;
  };

  before(async () => {
    database = await createTestDatabase('load');
    server = await startServerProcess(
      {
        DATABASE_URL: database.url,
        REDIS_URL,
        REDIS_KEY_PREFIX: `cloudmart-test:${randomBytes(4).toString('hex')}:`,
        CHAOS_ENABLED: 'true',
        CHAOS_TOKEN: TOKEN,
        DORA_RECORD_DEPLOYMENT: 'false',
        LOG_LEVEL: 'warn',
      },
      { readyPath: '/health/ready' },
    );
  });
  after(async () => {
    await server?.stop();
    await database?.drop();
  });

  test('When browse runs, then the summary reports requests, latency percentiles and status codes, and no errors', async () => {
    const run = await runCli(['browse', '--url', server.url, '--duration', '2s', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const s = summaryOf(run);
    assert.equal(s.scenario, 'browse');
    assert.equal(s.url, server.url);
    assert.ok(s.requests.completed >= 50, `${s.requests.completed} requests`);
    assert.ok(s.requests.perSecond > 0);
    assert.ok(s.latencyMs.p50 > 0 && s.latencyMs.p50 <= s.latencyMs.p90 && s.latencyMs.p90 <= s.latencyMs.p99);
    assert.equal(s.statusCodes['200'], s.requests.completed);
    assert.deepEqual(s.errors, { serverErrors: 0, unexpectedClientErrors: 0, connectionErrors: 0, timeouts: 0 });
    assert.equal(s.fault, null);
  });

  test('When checkout runs, then orders are created and 409 (out of stock) is reported as expected, not as an error', async () => {
    const run = await runCli(['checkout', '--url', server.url, '--duration', '2s', '--rate', '0', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const s = summaryOf(run);
    assert.ok((s.statusCodes['201'] ?? 0) > 0, JSON.stringify(s.statusCodes));
    assert.equal(s.expected['409'], s.statusCodes['409']);
    assert.deepEqual(s.errors, { serverErrors: 0, unexpectedClientErrors: 0, connectionErrors: 0, timeouts: 0 });
    // Unpaced for 2 s, low-stock products sell out: the 409 path is exercised too.
    assert.ok((s.statusCodes['409'] ?? 0) > 0, JSON.stringify(s.statusCodes));
  });

  test('When spike runs, then it uses many more connections than browse', async () => {
    const s = summaryOf(await runCli(['spike', '--url', server.url, '--duration', '2s', '--json']));
    assert.equal(s.connections, 100);
    assert.equal(s.rate, null);
    assert.ok(s.requests.completed > 100, `${s.requests.completed} requests`);
    assert.equal(s.errors.connectionErrors, 0);
  });

  test('When errors runs, then it switches errorRate on, the load sees 500s, and the fault is off again afterwards', async () => {
    const injectedBefore = await injectedErrors();
    const run = await runCli(['errors', '--url', server.url, '--duration', '2s', '--json'], { env: { CHAOS_TOKEN: TOKEN } });
    assert.equal(run.code, 0, run.stderr);
    const s = summaryOf(run);
    assert.deepEqual(s.fault, { requested: { errorRate: 0.5 }, switchedOn: true, cleared: true });
    assert.ok((s.statusCodes['500'] ?? 0) > 0 && (s.statusCodes['200'] ?? 0) > 0, JSON.stringify(s.statusCodes));
    assert.equal(s.errors.serverErrors, s.statusCodes['500']);
    // Every 500 was injected; requests still in flight when the run ended were injected but never counted by the client.
    const injected = (await injectedErrors()) - injectedBefore;
    const seen = s.statusCodes['500'] ?? 0;
    assert.ok(injected >= seen && injected <= seen + s.connections, `${injected} injected, ${seen} seen`);
    assert.deepEqual((await chaosState()).active, []);
  });

  test('When slow runs, then every request takes the injected 800 ms and the fault is off again afterwards', async () => {
    const run = await runCli(['slow', '--url', server.url, '--duration', '2s', '--token', TOKEN, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const s = summaryOf(run);
    assert.deepEqual(s.fault, { requested: { latencyMs: 800 }, switchedOn: true, cleared: true });
    assert.ok(s.requests.completed >= 10);
    assert.ok(s.latencyMs.p50 >= 800, `p50 ${s.latencyMs.p50} ms`);
    assert.deepEqual((await chaosState()).active, []);
  });

  test('When the run is interrupted with Ctrl-C, then the load stops and the fault is still switched off', async () => {
    let signalled = false;
    const run = await runCli(['errors', '--url', server.url, '--duration', '60s', '--json'], {
      env: { CHAOS_TOKEN: TOKEN },
      onStderr: (text, child) => {
        if (!signalled && text.includes('fault on')) {
          signalled = true;
          setTimeout(() => child.kill('SIGINT'), 500);
        }
      },
    });
    assert.equal(run.code, 130, run.stderr);
    const s = summaryOf(run);
    assert.equal(s.interrupted, true);
    assert.ok(s.durationSeconds < 10);
    assert.equal(s.fault?.cleared, true);
    assert.deepEqual((await chaosState()).active, []);
  });

  test('When a fault scenario has no token, then it refuses before touching the service', async () => {
    const run = await runCli(['errors', '--url', server.url, '--duration', '2s']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--token or set CHAOS_TOKEN/);
  });

  test('When the target is not loopback, then nothing at all is sent to it', async () => {
    // 0.0.0.0 is not a loopback address, yet Linux delivers a connection to it locally:
    // this listener would see any request the refusal let through.
    let connections = 0;
    const listener = net.createServer((c) => {
      connections += 1;
      c.destroy();
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const { port } = listener.address() as net.AddressInfo;
    try {
      for (const scenario of ['browse', 'errors']) {
        const run = await runCli([scenario, '--url', `http://0.0.0.0:${port}`, '--duration', '2s', '--token', TOKEN]);
        assert.equal(run.code, 2, run.stderr);
        assert.match(run.stderr, /refusing to load-test 0\.0\.0\.0:\d+: only loopback targets/);
        assert.equal(run.stdout, '');
      }
      assert.equal(connections, 0);
    } finally {
      await new Promise<void>((r) => listener.close(() => r()));
    }
  });
});
