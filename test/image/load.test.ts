/**
 * The backend image under 60 s of load with full telemetry (every request traced and
 * exported to a local OTLP receiver, metrics on, a JSON log line per request) inside
 * Compose's 512 MB limit: it must not be OOM-killed, and its memory is printed.
 * Loopback only, bounded by time. Needs podman as root (test/helpers/podman.ts).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { CountingOtlpReceiver } from '../../bench/lib/receivers';
import { drive } from '../../bench/lib/load';
import { sampleRss } from '../../bench/lib/service';
import { buildBackendImage, memoryCgroupFile, requirePodman, runContainer, type Container } from '../helpers/podman';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';
import { freePort } from '../../testkit/server-process';
import { findTool } from '../helpers/tools';
import { eventually } from '../helpers/wait';

const LOAD_MS = 60_000;
const CONNECTIONS = 32;
const LIMIT_MB = 512;
const MiB = 1024 * 1024;

let database: TestDatabase | undefined;
let receiver: CountingOtlpReceiver | undefined;
let container: Container | undefined;
after(async () => {
  await container?.remove();
  await receiver?.stop();
  await database?.drop();
});

test('60 s of load with full telemetry stays inside the 512 MB limit: no OOM kill, still healthy after', { timeout: 30 * 60_000 }, async (t) => {
  if (!requirePodman(t)) return;
  const { tag } = buildBackendImage();
  database = await createTestDatabase('imageload');
  receiver = await new CountingOtlpReceiver().start();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  container = await runContainer(tag, {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: `image-load-${process.pid}:`,
    LOG_LEVEL: 'info',
    METRICS_ENABLED: 'true',
    APM_AGENT: 'otel',
    OTEL_TRACES_SAMPLER: 'always_on',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  });
  const c = container;
  await eventually(
    '/health from the container',
    () =>
      fetch(`${url}/health`).then(
        (r) => (r.ok ? true : undefined),
        () => undefined,
      ),
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  const pid = await c.pid();
  const peakFile = memoryCgroupFile(pid, 'memory.max_usage_in_bytes', 'memory.peak');

  const sampler = sampleRss(pid, 1000);
  const tool = findTool('wrk') ? 'wrk' : 'autocannon';
  const load = await drive({ tool, url, endpoint: 'products', connections: CONNECTIONS, durationMs: LOAD_MS });
  const samples = sampler.stop();

  const state = await c.inspect<{ Running: boolean; OOMKilled: boolean; ExitCode: number }>('.State');
  assert.equal(state.OOMKilled, false, 'not OOM-killed');
  assert.equal(state.Running, true, `still running (exit code ${state.ExitCode})`);
  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200, 'answers /health after the load');

  const rss = samples.map((s) => s.mb);
  const maxRss = Math.max(...rss);
  const first10 = Math.max(...samples.filter((s) => s.atMs <= 10_000).map((s) => s.mb));
  const end = samples.at(-1)?.atMs ?? 0;
  const last10 = Math.max(...samples.filter((s) => s.atMs >= end - 10_000).map((s) => s.mb));
  const cgroupPeak = Number(fs.readFileSync(peakFile, 'utf8')) / MiB;
  await receiver.drain();
  t.diagnostic(
    `${tool}, ${CONNECTIONS} connections, ${(load.durationMs / 1000).toFixed(0)} s: ${load.requests} requests (${load.rps.toFixed(0)} req/s, p99 ${load.p99Ms.toFixed(0)} ms), ${load.errors} errors; ` +
      `${receiver.tally.total} spans exported`,
  );
  t.diagnostic(
    `RSS of node (PID 1): max ${maxRss.toFixed(0)} MB (first 10 s ${first10.toFixed(0)}, last 10 s ${last10.toFixed(0)}); cgroup peak ${cgroupPeak.toFixed(0)} MiB of ${LIMIT_MB} MiB (RSS also counts the node binary's shared pages, which the cgroup may not be charged for)`,
  );

  assert.ok(load.requests > 1000, `the load ran: ${load.requests} requests`);
  assert.ok(load.errors <= load.requests * 0.01, `${load.errors} errors in ${load.requests} requests`);
  assert.ok(receiver.tally.total > 0, 'spans reached the receiver during the load');
  assert.ok(maxRss < LIMIT_MB, `RSS ${maxRss.toFixed(0)} MB under ${LIMIT_MB} MB`);
  // The cgroup keeps an OOM kill count next to the limit (v1 memory.oom_control, v2
  // memory.events); it must be there, and zero.
  const oomControl = memoryCgroupFile(pid, 'memory.oom_control', 'memory.events');
  const counters = fs.readFileSync(oomControl, 'utf8');
  const kills = /^oom_kill (\d+)$/m.exec(counters)?.[1];
  assert.ok(kills !== undefined, `an oom_kill count in ${oomControl}: ${counters}`);
  assert.equal(kills, '0', 'no OOM kill in the container cgroup');
});
