/**
 * `docker compose build` and `up` for real, through podman's Docker-compatible API:
 * the backend service as compose/app.yaml defines it (init, memory limit, healthcheck,
 * stop grace period, labels), built by Compose from the Dockerfile and started by it.
 * Its Postgres and Redis images cannot be pulled here, so an override file (written by
 * the test) puts the backend on the host network, pointed at the CI's Postgres and Redis,
 * and it starts without its dependencies (--no-deps). Needs podman as root and the
 * compose binary (test/helpers/podman.ts, test/helpers/compose.ts).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { compose, requireCompose } from '../helpers/compose';
import { ensureBaseImage, podman, podmanEnv, podmanOk, requirePodman } from '../helpers/podman';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';
import { freePort } from '../../testkit/server-process';
import { eventually } from '../helpers/wait';

const project = `cloudmart-test-${process.pid}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-up-'));
const socket = path.join(dir, 'podman.sock');
let service: ChildProcess | undefined;
let database: TestDatabase | undefined;
let down: (() => void) | undefined;

after(async () => {
  down?.();
  // Compose tagged an image of its own for this run; the layers stay in the build cache.
  await podman(['rmi', '-f', `docker.io/cloudmart/backend:compose-test-${process.pid}`]);
  service?.kill('SIGTERM');
  await database?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('docker compose build backend, up, healthy, serving, and stop exits 0: through the podman API', { timeout: 30 * 60_000 }, async (t) => {
  if (!requirePodman(t)) return;
  const bin = requireCompose(t);
  if (!bin) return;
  // Compose builds from the Dockerfile on the local base (the layer cache of scripts/image/build.sh applies).
  const base = ensureBaseImage();
  assert.match(base, /^localhost\/cloudmart-node:/);

  service = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], { env: podmanEnv(), stdio: 'ignore' });
  await eventually('the podman API socket', () => (fs.existsSync(socket) ? true : undefined), { timeoutMs: 20_000 });

  database = await createTestDatabase('composeup');
  const port = await freePort();
  const override = path.join(dir, 'host-network.yaml');
  fs.writeFileSync(
    override,
    [
      'services:',
      '  backend:',
      '    network_mode: host',
      '    ports: !reset []',
      '    environment:',
      `      PORT: "${port}"`,
      '      HOST: 127.0.0.1',
      `      DATABASE_URL: ${database.url}`,
      `      REDIS_URL: ${REDIS_URL}`,
      `      REDIS_KEY_PREFIX: "${project}:"`,
      // No Jaeger or APM server here: exporting to a closed port is tolerated, and fast.
      '      OTEL_EXPORTER_OTLP_ENDPOINT: http://127.0.0.1:9',
      '      ELASTIC_APM_SERVER_URL: ""',
      '',
    ].join('\n'),
  );
  const env = { DOCKER_HOST: `unix://${socket}`, SERVICE_VERSION: `compose-test-${process.pid}` };
  const args = ['-p', project, '-f', 'compose/app.yaml', '-f', override, '--env-file', 'compose/.env.example'];
  down = () => void compose(bin, [...args, 'down', '-v', '-t', '0'], env, 60_000);

  const built = compose(bin, [...args, 'build', '--build-arg', `NODE_IMAGE=${base}`, 'backend'], env, 20 * 60_000);
  assert.equal(built.status, 0, built.stderr);
  const images = await podmanOk(['images', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.match(images, new RegExp(`cloudmart/backend:${env.SERVICE_VERSION}$`, 'm'), 'Compose tagged the image by SERVICE_VERSION');

  const up = compose(bin, [...args, 'up', '-d', '--no-deps', 'backend'], env, 120_000);
  assert.equal(up.status, 0, up.stderr);
  const id = compose(bin, [...args, 'ps', '-q', 'backend'], env).stdout.trim();
  assert.ok(id, 'a backend container');
  const [inspected] = JSON.parse(await podmanOk(['inspect', id])) as {
    HostConfig: { Init: boolean; Memory: number };
    Config: { StopTimeout: number; Labels: Record<string, string> };
  }[];
  assert.ok(inspected);
  assert.equal(inspected.HostConfig.Init, true, 'init: true');
  assert.equal(inspected.HostConfig.Memory, 512 * 1024 * 1024, 'mem_limit: 512m');
  assert.equal(inspected.Config.StopTimeout, 15, 'stop_grace_period: 15s');
  assert.equal(inspected.Config.Labels.logging, 'promtail');

  const url = `http://127.0.0.1:${port}`;
  await eventually(
    '/health through Compose',
    () =>
      fetch(`${url}/health`).then(
        (r) => (r.ok ? true : undefined),
        () => undefined,
      ),
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  // No systemd here to schedule the periodic check; run Compose's healthcheck once, as the engine would.
  const check = await podman(['healthcheck', 'run', id]);
  assert.equal(check.code, 0, check.stderr);
  const ps = compose(bin, [...args, 'ps', '--format', '{{.Service}} {{.State}} {{.Health}}'], env);
  assert.equal(ps.stdout.trim(), 'backend running healthy');
  const products = await fetch(`${url}/api/products?limit=2`);
  assert.equal(products.status, 200);
  assert.equal(((await products.json()) as { data: unknown[] }).data.length, 2);

  const stop = compose(bin, [...args, 'stop', 'backend'], env, 60_000);
  assert.equal(stop.status, 0, stop.stderr);
  assert.equal((await podmanOk(['inspect', '--format', '{{.State.ExitCode}}', id])).trim(), '0', 'SIGTERM handled, not SIGKILLed');
  const logs = compose(bin, [...args, 'logs', '--no-color', '--no-log-prefix', 'backend'], env).stdout;
  assert.match(logs, /"msg":"shutdown complete"/);

  const removed = compose(bin, [...args, 'down', '-v'], env, 60_000);
  assert.equal(removed.status, 0, removed.stderr);
  down = undefined;
  assert.equal((await podman(['container', 'exists', id])).code, 1, 'down removed the container');
});
