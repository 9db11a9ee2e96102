/**
 * The backend image, built from the repo's Dockerfile and run for real with podman:
 * what it holds, that it runs as the Dockerfile says (non-root, node as PID 1, JSON logs,
 * healthcheck on PORT) against the CI's Postgres and Redis under Compose's memory limit,
 * and that a stop lets an in-flight request finish. Needs podman as root; skipped
 * elsewhere, failed under CI=true (test/helpers/podman.ts).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { OtlpReceiver } from '../../testkit/otlp-receiver';
import { buildBackendImage, memoryCgroupFile, podman, podmanOk, requirePodman, runContainer, type Container } from '../helpers/podman';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';
import { freePort, ROOT } from '../../testkit/server-process';
import { holdOrderUpload, requestsInFlight } from '../helpers/held-request';
import { eventually } from '../helpers/wait';

const MB = 1_000_000;

interface ImageConfig {
  User: string;
  Env: string[];
  Entrypoint: string[] | null;
  Cmd: string[];
  StopSignal?: string;
}

/** Runs a shell in a throwaway container of the image (entrypoint replaced) and returns its stdout. */
async function inImage(image: string, script: string): Promise<string> {
  return podmanOk(['run', '--rm', '--network', 'none', '--entrypoint', 'sh', image, '-c', script]);
}

describe('the backend image', () => {
  let image = '';
  let skipped = false;

  test('builds from the Dockerfile on the local node base, keeping its HEALTHCHECK, user and CMD', async (t) => {
    if (!requirePodman(t)) {
      skipped = true;
      return;
    }
    const built = buildBackendImage();
    image = built.tag;
    t.diagnostic(`built ${image} in ${built.seconds.toFixed(0)} s`);
    const [inspected] = JSON.parse(await podmanOk(['image', 'inspect', image])) as { Config: ImageConfig; Healthcheck?: { Test: string[] } }[];
    assert.ok(inspected);
    const config = inspected.Config;
    assert.equal(config.User, 'node');
    assert.ok(config.Env.includes('NODE_ENV=production'));
    // src/tuning/malloc.ts's setting, by glibc's tunable: no node:ffi warning on stderr.
    assert.ok(config.Env.includes('GLIBC_TUNABLES=glibc.malloc.mmap_threshold=32768'));
    assert.equal(config.StopSignal, 'SIGTERM');
    assert.ok(inspected.Healthcheck, 'docker format keeps the HEALTHCHECK');
    assert.equal(inspected.Healthcheck.Test[0], 'CMD');
    assert.match(inspected.Healthcheck.Test.join(' '), /process\.env\.PORT/);
    const start = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    assert.deepEqual(config.Cmd, start.split(' '), 'the image runs what npm start runs');
  });

  test('holds the built service and production dependencies only: no sources, tests, .git, .env or dev-only packages', async (t) => {
    if (skipped) {
      t.skip('no image: the first test was skipped');
      return;
    }
    const listing = await inImage(
      image,
      [
        'cd /app',
        'echo "top: $(ls -A | sort | tr "\\n" " ")"',
        'echo "ts: $(find . -path ./node_modules -prune -o -name "*.ts" -print | head -5 | tr "\\n" " ")"',
        'echo "hidden: $(find / -xdev \\( -name .git -o -name ".env" -o -name ".env.*" \\) -not -path "/proc/*" 2>/dev/null | head -5 | tr "\\n" " ")"',
        'echo "modules: $(cd node_modules && { ls -d [!@]* @*/* 2>/dev/null; } | tr "\\n" " ")"',
        'echo "sizes: $(du -sb / --exclude=/proc --exclude=/sys 2>/dev/null | cut -f1) $(du -sb node_modules | cut -f1) $(du -sb /usr/local | cut -f1) $(du -sb dist | cut -f1)"',
      ].join('\n'),
    );
    const field = (name: string) => (new RegExp(`^${name}: (.*)$`, 'm').exec(listing)?.[1] ?? '').trim();
    assert.deepEqual(field('top').split(' '), ['dist', 'logs', 'migrations', 'node_modules', 'package-lock.json', 'package.json']);
    assert.equal(field('ts'), '', 'no TypeScript sources outside node_modules');
    assert.equal(field('hidden'), '', 'no .git or .env anywhere');

    // Dev-only per the lockfile: a devDependency that a production package also needs is not one.
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = new Set(
      Object.entries(lock.packages)
        .filter(([p, e]) => e.dev && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(p))
        .map(([p]) => p.slice('node_modules/'.length)),
    );
    const present = field('modules').split(' ').filter(Boolean);
    assert.ok(present.includes('express') && present.includes('@opentelemetry/sdk-node'), 'production dependencies are there');
    assert.deepEqual(
      present.filter((m) => devOnly.has(m)),
      [],
      'no dev-only package',
    );
    for (const dev of ['typescript', 'tsx', 'eslint', 'supertest', 'autocannon']) assert.ok(devOnly.has(dev) && !present.includes(dev), dev);

    const [, nodeModules = 0, usrLocal = 0, dist = 0] = field('sizes').split(' ').map(Number);
    const size = Number(await podmanOk(['image', 'inspect', '--format', '{{.Size}}', image]));
    t.diagnostic(
      `image ${(size / MB).toFixed(0)} MB: node_modules ${(nodeModules / MB).toFixed(0)} MB, Node.js + npm (/usr/local) ${(usrLocal / MB).toFixed(0)} MB, dist ${(dist / MB).toFixed(1)} MB`,
    );
    assert.ok(nodeModules > 20 * MB && nodeModules < size, 'node_modules measured');
    assert.ok(size < 600 * MB, `image ${(size / MB).toFixed(0)} MB`);
  });

  describe('running on the host network under 512 MB, against real Postgres and Redis, full telemetry', () => {
    let database: TestDatabase;
    let container: Container | undefined;
    let receiver: OtlpReceiver;
    let port = 0;
    let url = '';

    before(async () => {
      if (skipped) return;
      database = await createTestDatabase('image');
      receiver = await new OtlpReceiver().start();
    });
    after(async () => {
      if (skipped) return;
      await container?.remove();
      await receiver.stop();
      await database.drop();
    });

    test('starts as user node, node itself PID 1, listening on PORT (not 3000), inside a 512 MB cgroup', async (t) => {
      if (skipped) {
        t.skip('no image: the first test was skipped');
        return;
      }
      port = await freePort();
      assert.notEqual(port, 3000);
      url = `http://127.0.0.1:${port}`;
      container = await runContainer(image, {
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: database.url,
        REDIS_URL,
        REDIS_KEY_PREFIX: `image-test-${process.pid}:`,
        LOG_LEVEL: 'info',
        OTEL_SERVICE_NAME: 'cloudmart-image-test',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_TRACES_SAMPLER: 'always_on',
        OTEL_BSP_SCHEDULE_DELAY: '500',
        SHUTDOWN_TIMEOUT_MS: '8000',
      });
      const health = await eventually(
        '/health from the container',
        () =>
          fetch(`${url}/health`).then(
            (r) => (r.ok ? r.json() : undefined),
            () => undefined,
          ),
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      assert.equal((health as { status: string }).status, 'ok');

      const ids = await podmanOk(['exec', container.name, 'sh', '-c', 'id -u; id -g; tr "\\0" " " </proc/1/cmdline']);
      const [uid, gid, cmdline] = ids.trim().split('\n');
      assert.equal(uid, '1000');
      assert.equal(gid, '1000');
      assert.match(cmdline ?? '', /^node --max-old-space-size=256 .*dist\/server\.js$/, "the entrypoint exec'd node: it gets the stop signal itself");

      assert.equal(await container.inspect<number>('.HostConfig.Memory'), 512 * 1024 * 1024);
      // What the kernel enforces, not only what podman recorded.
      const limit = fs.readFileSync(memoryCgroupFile(await container.pid(), 'memory.limit_in_bytes', 'memory.max'), 'utf8').trim();
      assert.equal(limit, String(512 * 1024 * 1024));
    });

    test('its HEALTHCHECK reports healthy, and probes PORT: pointed at a closed port it fails', async (t) => {
      if (skipped || !container) {
        t.skip('no container');
        return;
      }
      const run = await podman(['healthcheck', 'run', container.name]);
      assert.equal(run.code, 0, `healthcheck run: ${run.stdout}${run.stderr}`);
      const status = await container.inspect<{ Status: string; Log: { ExitCode: number }[] }>('.State.Healthcheck');
      assert.equal(status.Status, 'healthy');
      assert.equal(status.Log.at(-1)?.ExitCode, 0);
      // The same probe with PORT moved away: the image's check must follow it, not a fixed port.
      const [inspected] = JSON.parse(await podmanOk(['image', 'inspect', image])) as { Healthcheck: { Test: string[] } }[];
      const test = inspected?.Healthcheck.Test.slice(1) ?? [];
      assert.equal(test[0], 'node');
      const closed = await freePort();
      const moved = await podman(['exec', '-e', `PORT=${closed}`, container.name, ...test]);
      assert.notEqual(moved.code, 0, 'the probe follows PORT');
      const here = await podman(['exec', container.name, ...test]);
      assert.equal(here.code, 0);
    });

    test('/api/products answers from Postgres, and its traces reach the OTLP receiver from inside the container', async (t) => {
      if (skipped || !container) {
        t.skip('no container');
        return;
      }
      const res = await fetch(`${url}/api/products?limit=3`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { data: { id: number }[] };
      assert.equal(body.data.length, 3, 'the seeded catalog, migrated by the container at start');
      const span = await eventually(
        'the server span of GET /api/products',
        () => receiver.spans.find((s) => s.kind === 2 && s.name.includes('/api/products')),
        { timeoutMs: 20_000 },
      );
      assert.equal(span.resource['service.name'], 'cloudmart-image-test');
      assert.ok(
        receiver.spans.some((s) => s.traceId === span.traceId && s.kind === 3),
        'a client span (pg or redis) in the same trace',
      );
    });

    test('logs JSON lines on stdout and nothing on stderr', async (t) => {
      if (skipped || !container) {
        t.skip('no container');
        return;
      }
      const { stdout, stderr } = await container.logs();
      const lines = stdout.split('\n').filter((l) => l.length > 0);
      assert.ok(lines.length >= 5, `some log lines: ${stdout.slice(0, 500)}`);
      for (const line of lines) {
        const parsed = JSON.parse(line) as { level?: unknown; msg?: unknown };
        assert.ok(parsed.level !== undefined && typeof parsed.msg === 'string', line);
      }
      assert.ok(lines.some((l) => l.includes('listening on')));
      assert.equal(stderr, '', 'stderr stays empty');
    });

    test('podman stop (SIGTERM) lets an in-flight request finish, then it exits 0 well inside the stop timeout', async (t) => {
      if (skipped || !container) {
        t.skip('no container');
        return;
      }
      const c = container;
      // A request whose body is still uploading when the signal arrives: genuinely in flight.
      const held = holdOrderUpload(url, { items: [{ productId: 3, quantity: 1 }], customerEmail: 'stop@example.com' });
      await eventually('the order in flight', async () => ((await requestsInFlight(url)) >= 1 ? true : undefined));
      const stopTimeout = 10;
      const started = Date.now();
      const stopping = podman(['stop', '--time', String(stopTimeout), c.name], { timeoutMs: 30_000 });
      await eventually('the service saw SIGTERM', async () => ((await c.logs()).stdout.includes('"signal":"SIGTERM"') ? true : undefined), {
        timeoutMs: 10_000,
        intervalMs: 200,
      });
      held.finish();
      const res = await held.answered;
      assert.equal(res.status, 201, res.body);
      const stopped = await stopping;
      const seconds = (Date.now() - started) / 1000;
      assert.equal(stopped.code, 0, stopped.stderr);
      const state = await c.inspect<{ ExitCode: number; OOMKilled: boolean; Status: string }>('.State');
      const { stdout, stderr } = await c.logs();
      const logs = stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { time: string; msg: string; signal?: string });
      const signalled = logs.find((l) => l.signal === 'SIGTERM');
      const complete = logs.find((l) => l.msg === 'shutdown complete');
      assert.ok(signalled, 'the service saw SIGTERM');
      assert.ok(complete, 'and finished its shutdown');
      const inService = (Date.parse(complete.time) - Date.parse(signalled.time)) / 1000;
      t.diagnostic(
        `podman stop returned after ${seconds.toFixed(1)} s (timeout ${stopTimeout} s); the service shut down in ${inService.toFixed(1)} s of it, the in-flight request included; exit code ${state.ExitCode}`,
      );
      assert.equal(state.ExitCode, 0, 'exit 0, not 137 from a SIGKILL at the timeout');
      const after = logs
        .slice(logs.indexOf(signalled))
        .map((l) => `${l.time.slice(17, 23)} ${l.msg}`)
        .join('\n');
      // Well inside the stop timeout, shown by what happened rather than by a clock: the service
      // drained before its own deadline (SHUTDOWN_TIMEOUT_MS, 8 s of the 10) would have cut the
      // request off, and podman never had to kill it (exit 0 above).
      assert.ok(!logs.some((l) => l.msg.startsWith('shutdown deadline passed')), `the shutdown deadline never fired:\n${after}`);
      assert.equal(stderr, '');
    });
  });
});
