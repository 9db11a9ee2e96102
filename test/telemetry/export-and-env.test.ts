import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { OtlpReceiver } from '../../testkit/otlp-receiver';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';
import { startServerProcess } from '../../testkit/server-process';
import { eventually } from '../helpers/wait';

/** A loopback port with nothing listening: reserve one, then close it. */
async function deadPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('tracing backends and the standard OTEL_* variables', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase('otelenv');
  });
  after(() => database.drop());

  /** The service with tracing on, exporting to `endpoint` every 50 ms; `env` adds or overrides. */
  const startTraced = (endpoint: string, env: Record<string, string> = {}) =>
    startServerProcess({
      DATABASE_URL: database.url,
      REDIS_URL,
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '50',
      ...env,
    });

  test('When the OTLP endpoint is unreachable, then every request succeeds and the warning is logged once', async () => {
    const server = await startTraced(`http://127.0.0.1:${await deadPort()}`, {
      OTEL_BSP_MAX_QUEUE_SIZE: '64',
      // The exporter retries a refused connection until this timeout, then reports the batch failed.
      OTEL_EXPORTER_OTLP_TIMEOUT: '500',
    });
    const failing = () => server.logs.filter((l) => String(l.msg).startsWith('span export failing'));
    const round = async () => {
      const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(`${server.url}/api/products/${(i % 40) + 1}`).then((r) => r.status)));
      assert.deepEqual(new Set(statuses), new Set([200]));
    };
    try {
      await eventually('the first failed export', async () => {
        await round();
        return failing().length ? true : undefined;
      });
      // More batches after the warning; and the shutdown flush below fails once more.
      for (let i = 0; i < 10; i++) await round();
    } finally {
      const started = Date.now();
      assert.equal(await server.stop(), 0);
      assert.ok(Date.now() - started < 5000, 'shutdown does not hang on an unreachable collector');
    }
    // Every line the process wrote is in by now: it has exited and its stdout closed.
    assert.ok(server.logs.some((l) => l.msg === 'shutdown complete'));
    assert.equal(failing().length, 1, 'one warning, not one per batch');
    assert.equal(failing()[0]?.level, 'warn');
  });

  test('When OTEL_TRACES_SAMPLER=always_off, then nothing is exported; OTEL_SERVICE_NAME renames the service', async () => {
    const receiver = await new OtlpReceiver().start();
    const off = await startTraced(receiver.url, { OTEL_TRACES_SAMPLER: 'always_off' });
    await fetch(`${off.url}/api/products`);
    await off.stop();
    assert.equal(receiver.spans.length, 0);

    const renamed = await startTraced(receiver.url, { OTEL_SERVICE_NAME: 'cloudmart-lab-a', OTEL_RESOURCE_ATTRIBUTES: 'team=students,host.name=lab-host-a' });
    await fetch(`${renamed.url}/api/products`);
    // Shutdown flushes what the batch processor still holds.
    assert.equal(await renamed.stop(), 0);
    const server = receiver.spans.find((s) => s.kind === 2);
    assert.ok(server, 'spans flushed at shutdown');
    assert.equal(server.resource['service.name'], 'cloudmart-lab-a');
    assert.equal(server.resource.team, 'students');
    // OTEL_RESOURCE_ATTRIBUTES wins over what the host detector finds.
    assert.equal(server.resource['host.name'], 'lab-host-a');
    await receiver.stop();
  });

  test('When OTEL_METRICS_EXPORTER=otlp, then the OTel request histogram carries the route template, as the span does', async () => {
    const receiver = await new OtlpReceiver().start();
    const server = await startTraced(receiver.url, {
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      OTEL_METRIC_EXPORT_INTERVAL: '500',
    });
    try {
      assert.equal((await fetch(`${server.url}/api/products/1`)).status, 200);
      assert.equal((await fetch(`${server.url}/api/no-such-thing/42`)).status, 404);
    } finally {
      // Shutdown flushes both the spans and the last metrics export.
      assert.equal(await server.stop(), 0);
      await receiver.stop();
    }
    const durations = receiver.dataPoints.filter((p) => p.metric === 'http.server.request.duration');
    const routes = durations.map((p) => p.attributes['http.route']);
    assert.ok(routes.includes('/api/products/:id'), `routes on the histogram: ${JSON.stringify(routes)}`);
    // Unmatched requests get no route (never the raw URL), so URLs cannot grow its series.
    assert.ok(durations.some((p) => p.attributes['http.response.status_code'] === 404 && p.attributes['http.route'] === undefined));
    assert.ok(!routes.some((r) => typeof r === 'string' && r.includes('no-such-thing')));
    const span = receiver.spans.find((s) => s.kind === 2 && s.attributes['http.route'] === '/api/products/:id');
    assert.equal(span?.name, 'GET /api/products/:id');
  });

  test('When spans pile up, then they are exported in batches of 128 by default, or of OTEL_BSP_MAX_EXPORT_BATCH_SIZE', async () => {
    for (const [env, size] of [
      [{}, 128],
      [{ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '40' }, 40],
    ] as const) {
      const receiver = await new OtlpReceiver().start();
      const server = await startTraced(receiver.url, {
        // No timed exports: only a full batch (or the shutdown flush) sends.
        OTEL_BSP_SCHEDULE_DELAY: '60000',
        ...env,
      });
      for (let round = 0; round < 10; round++) {
        await Promise.all(Array.from({ length: 20 }, () => fetch(`${server.url}/api/products`).then((r) => r.arrayBuffer())));
      }
      assert.equal(await server.stop(), 0);
      const batches = receiver.requests.map((r) => r.spans);
      assert.ok(batches.length >= 2, `several exports: ${batches.join(', ')}`);
      assert.ok(
        batches.every((n) => n <= size),
        `no batch above ${size}: ${batches.join(', ')}`,
      );
      assert.ok(batches.includes(size), `full batches of ${size}: ${batches.join(', ')}`);
      await receiver.stop();
    }
  });

  test('When OTEL_SDK_DISABLED=true, then no tracer starts and nothing is sent', async () => {
    const receiver = await new OtlpReceiver().start();
    const server = await startTraced(receiver.url, { OTEL_SDK_DISABLED: 'true' });
    await fetch(`${server.url}/api/products`);
    await server.stop();
    assert.equal(receiver.requests.length, 0);
    assert.ok(server.logs.some((l) => l.tracer === 'none'));
    await receiver.stop();
  });

  test('When LOG_FILE is set, then the same JSON lines also go to that file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cloudmart-logs-'));
    const file = path.join(dir, 'logs', 'backend.log');
    const server = await startServerProcess({ DATABASE_URL: database.url, REDIS_URL, LOG_FILE: file });
    await fetch(`${server.url}/api/products/1`, { headers: { 'X-Request-Id': 'file-req-1' } });
    await server.stop();
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(lines.some((l) => l.req_id === 'file-req-1' && l.route === '/api/products/:id'));
    rmSync(dir, { recursive: true, force: true });
  });

  test('When LOG_LEVEL=silent, then the service writes no log lines', async () => {
    const server = await startServerProcess({ DATABASE_URL: database.url, REDIS_URL, LOG_LEVEL: 'silent' }, { readyPath: '/health' });
    await fetch(`${server.url}/api/products/1`);
    await server.stop();
    assert.equal(server.logs.length, 0);
  });
});
