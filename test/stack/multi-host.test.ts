/**
 * The course's multi-host layout, checked by rendering it with Docker Compose itself
 * (`docker-compose config`, no engine needed): app hosts run compose/app.yaml, the
 * monitoring host compose/monitoring.yaml, and the addresses come from .env variables.
 * The rendered target list is then loaded by promtool with the shipped prometheus.yml.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { composeDir, dockerDir, publishedPorts, type Yaml } from '../helpers/stack';
import { requireTool, runTool } from '../helpers/tools';

/** `docker-compose -f <file> config` with only the given variables set (an empty .env). */
function renderCompose(bin: string, file: string, vars: Record<string, string>): Yaml {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cloudmart-compose-'));
  try {
    const envFile = path.join(tmp, '.env');
    fs.writeFileSync(
      envFile,
      Object.entries(vars)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    );
    const res = spawnSync(bin, ['--env-file', envFile, '-f', path.join(composeDir, file), 'config', '--format', 'json'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? '', HOME: tmp },
    });
    assert.equal(res.status, 0, `${res.stdout}\n${res.stderr}`);
    return JSON.parse(res.stdout);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

test('an app host: the API on the load balancer, the shared database, cache and trace collector from .env', (t) => {
  const compose = requireTool('docker-compose', t);
  if (!compose) return;
  const doc = renderCompose(compose, 'app.yaml', {
    DATABASE_URL: 'postgres://cloudmart:pw@10.0.1.10:5432/cloudmart',
    REDIS_URL: 'redis://10.0.1.10:6379',
    JAEGER_OTLP_ENDPOINT: '10.0.1.20:4317',
  });
  const env = doc.services.backend.environment;
  assert.equal(env.DATABASE_URL, 'postgres://cloudmart:pw@10.0.1.10:5432/cloudmart');
  assert.equal(env.REDIS_URL, 'redis://10.0.1.10:6379');
  // The backend sends to its host's collector, which sends to the monitoring host's Jaeger.
  assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://otel-collector:4318');
  assert.equal(doc.services['otel-collector'].environment.JAEGER_OTLP_ENDPOINT, '10.0.1.20:4317');
  assert.deepEqual(publishedPorts(doc.services.backend), [], 'replicas publish nothing');
  assert.deepEqual(
    publishedPorts(doc.services.lb).map((p) => [p.published, p.target]),
    [['3000', '3000']],
  );

  // Nothing set: the single-host defaults.
  const single = renderCompose(compose, 'app.yaml', {});
  assert.equal(single.services.backend.environment.DATABASE_URL, 'postgres://cloudmart:cloudmart@postgres:5432/cloudmart');
  assert.equal(single.services['otel-collector'].environment.JAEGER_OTLP_ENDPOINT, 'jaeger:4317');
});

test('the monitoring host: the app hosts from .env become the backend job targets, each its own instance', (t) => {
  const compose = requireTool('docker-compose', t);
  if (!compose) return;
  const promtool = requireTool('promtool', t);
  if (!promtool) return;
  const targetsOf = (vars: Record<string, string>) => {
    const doc = renderCompose(compose, 'monitoring.yaml', vars);
    const mount = (doc.services.prometheus.configs as Yaml[]).find((c) => c.source === 'backend-targets');
    assert.equal(mount?.target, '/etc/prometheus/targets/backend.yml', 'mounted where prometheus.yml reads it');
    return String(doc.configs['backend-targets'].content);
  };
  const multi = targetsOf({ APP_BACKEND_TARGETS: '10.0.1.11:3000,10.0.1.12:3000' });
  assert.deepEqual(parseYaml(multi), [{ targets: ['10.0.1.11:3000', '10.0.1.12:3000'] }]);
  assert.deepEqual(parseYaml(targetsOf({})), [{ targets: [] }], 'one host: an empty list, the replicas come from DNS');

  // Prometheus itself loads the rendered file with the shipped configuration.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cloudmart-multihost-'));
  try {
    fs.cpSync(path.join(dockerDir, 'prometheus', 'rules'), path.join(tmp, 'rules'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'backend.yml'), multi);
    const config = fs
      .readFileSync(path.join(dockerDir, 'prometheus', 'prometheus.yml'), 'utf8')
      .replaceAll('/etc/prometheus/rules/', `${tmp}/rules/`)
      .replaceAll('/etc/prometheus/targets/backend.yml', path.join(tmp, 'backend.yml'));
    fs.writeFileSync(path.join(tmp, 'prometheus.yml'), config);
    const res = runTool(promtool, ['check', 'config', path.join(tmp, 'prometheus.yml')]);
    assert.equal(res.status, 0, res.output);
    assert.match(res.output, /SUCCESS/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('the commented remote_write example is valid Prometheus configuration once uncommented', (t) => {
  const promtool = requireTool('promtool', t);
  if (!promtool) return;
  const shipped = fs.readFileSync(path.join(dockerDir, 'prometheus', 'prometheus.yml'), 'utf8');
  const start = shipped.indexOf('# remote_write:');
  assert.ok(start > 0, 'prometheus.yml carries a commented remote_write example');
  const example = shipped
    .slice(start)
    .split('\n')
    .map((l) => l.replace(/^# ?/, ''))
    .join('\n');
  const parsed = parseYaml(example);
  assert.deepEqual(
    parsed.remote_write.map((w: Yaml) => new URL(w.url).pathname),
    ['/api/v1/push', '/api/v1/receive', '/workspaces/ws-EXAMPLE/api/v1/remote_write'],
    'Mimir, Thanos Receive, Amazon Managed Prometheus',
  );
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cloudmart-remote-write-'));
  try {
    fs.cpSync(path.join(dockerDir, 'prometheus', 'rules'), path.join(tmp, 'rules'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'backend.yml'), '- targets: []\n');
    const config = `${shipped.slice(0, start)}${example}`
      .replaceAll('/etc/prometheus/rules/', `${tmp}/rules/`)
      .replaceAll('/etc/prometheus/targets/backend.yml', path.join(tmp, 'backend.yml'));
    fs.writeFileSync(path.join(tmp, 'prometheus.yml'), config);
    const res = runTool(promtool, ['check', 'config', path.join(tmp, 'prometheus.yml')]);
    assert.equal(res.status, 0, res.output);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
