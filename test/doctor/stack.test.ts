/**
 * `npm run doctor` against the parts of the lab stack that run here, for real: the built
 * service on real Postgres and Redis, exporting OTLP to a real Jaeger v2 (the project's
 * docker/jaeger/config.yaml, addresses moved to free loopback ports), scraped by a real
 * Prometheus with the project's rules, which sends to a real Alertmanager with the
 * project's config, plus redis-exporter. Loki and Grafana cannot run here; their lines
 * are left out with --skip (their unreachable case is in unreachable.test.ts).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import YAML from 'yaml';
import { expectedAlertNames } from '../../scripts/lib/stack-config';
import { startAlertmanager, startPrometheus, startRedisExporter, type ManagedProcess } from '../helpers/monitoring';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';
import { freePort, startServerProcess, type ServerProcess } from '../../testkit/server-process';
import { dockerDir } from '../helpers/stack';
import { findTool } from '../helpers/tools';
import { eventually } from '../helpers/wait';
import { assertNoStackTrace, lineOf, runDoctor } from './run-doctor';
import { underCI } from '../helpers/ci';

interface Jaeger {
  queryUrl: string;
  otlpHttpUrl: string;
  output: string[];
  stop(): Promise<void>;
}

type Yaml = Record<string, unknown>;
const at = (obj: unknown, ...keys: string[]): Yaml => keys.reduce((o, k) => (o as Yaml)[k], obj) as Yaml;

/**
 * docker/jaeger/config.yaml with only its listen addresses moved to free loopback ports
 * (a copy rather than --set flags: the telemetry reader's port sits inside a list).
 */
async function startJaeger(bin: string, prometheusUrl: string): Promise<Jaeger> {
  const config = YAML.parse(readFileSync(path.join(dockerDir, 'jaeger', 'config.yaml'), 'utf8')) as Yaml;
  const port = async () => `127.0.0.1:${await freePort()}`;
  const [otlpGrpc, otlpHttp, queryHttp, queryGrpc, health, spanMetrics, ownMetrics] = await Promise.all([
    port(),
    port(),
    port(),
    port(),
    port(),
    port(),
    freePort(),
  ]);
  at(config, 'receivers', 'otlp', 'protocols', 'grpc').endpoint = otlpGrpc;
  at(config, 'receivers', 'otlp', 'protocols', 'http').endpoint = otlpHttp;
  at(config, 'extensions', 'jaeger_query', 'http').endpoint = queryHttp;
  at(config, 'extensions', 'jaeger_query', 'grpc').endpoint = queryGrpc;
  at(config, 'extensions', 'healthcheckv2', 'http').endpoint = health;
  at(config, 'extensions', 'jaeger_storage', 'metric_backends', 'prometheus_metrics', 'prometheus').endpoint = prometheusUrl;
  at(config, 'exporters', 'prometheus').endpoint = spanMetrics;
  const reader = (at(config, 'service', 'telemetry', 'metrics').readers as Yaml[])[0];
  Object.assign(at(reader, 'pull', 'exporter', 'prometheus'), { host: '127.0.0.1', port: ownMetrics });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cloudmart-jaeger-'));
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, YAML.stringify(config));

  const child: ChildProcess = spawn(bin, ['--config', file], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (b: Buffer) => output.push(...b.toString().split('\n').filter(Boolean).slice(-200));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const queryUrl = `http://${queryHttp}`;
  const deadline = Date.now() + 60_000;
  while (
    !(await fetch(`http://${health}/status`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`jaeger did not start:\n${output.slice(-20).join('\n')}`);
    }
    await sleep(200);
  }
  return {
    queryUrl,
    otlpHttpUrl: `http://${otlpHttp}`,
    output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The first of these executables on PATH (the pinned build's name, then Debian's). */
function findAny(...names: string[]): string | null {
  for (const n of names) {
    const found = findTool(n);
    if (found) return found;
  }
  return null;
}

describe('npm run doctor against a running Prometheus, Alertmanager, Jaeger and service', () => {
  let database: TestDatabase | undefined;
  let server: ServerProcess | undefined;
  let jaeger: Jaeger | undefined;
  let alertmanager: ManagedProcess | undefined;
  let prometheus: ManagedProcess | undefined;
  let redisExporter: ManagedProcess | undefined;
  let missing: string | undefined;
  let urls: string[] = [];

  before(async () => {
    const bins = {
      prometheus: findAny('prometheus'),
      alertmanager: findAny('alertmanager', 'prometheus-alertmanager'),
      jaeger: findAny('jaeger'),
      redisExporter: findAny('prometheus-redis-exporter'),
    };
    const absent = Object.entries(bins)
      .filter(([, b]) => !b)
      .map(([n]) => n);
    if (absent.length) {
      missing = `not on PATH: ${absent.join(', ')} (scripts/backends.sh builds prometheus, alertmanager and jaeger)`;
      if (underCI()) throw new Error(`${missing}; CI requires them`);
      return;
    }
    database = await createTestDatabase('doctor');
    // Prometheus's port is needed by Jaeger's SPM backend before Prometheus starts; it only queries it on demand.
    jaeger = await startJaeger(bins.jaeger as string, 'http://127.0.0.1:9');
    server = await startServerProcess({
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: `doctor-${process.pid}:`,
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttpUrl,
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    alertmanager = await startAlertmanager(bins.alertmanager as string, server.url, 'unset');
    redisExporter = await startRedisExporter(bins.redisExporter as string, REDIS_URL);
    prometheus = await startPrometheus(bins.prometheus as string, {
      backend: `127.0.0.1:${server.port}`,
      redis: `127.0.0.1:${redisExporter.port}`,
      alertmanager: `127.0.0.1:${alertmanager.port}`,
    });
    urls = ['--backend-url', server.url, '--prometheus-url', prometheus.url, '--alertmanager-url', alertmanager.url, '--jaeger-url', jaeger.queryUrl];
  });

  after(async () => {
    await prometheus?.stop();
    await alertmanager?.stop();
    await redisExporter?.stop();
    await server?.stop();
    await jaeger?.stop();
    await database?.drop();
  });

  test('a service Jaeger has never seen: a miss that says which services it does know', async (t) => {
    if (missing) {
      t.skip(missing);
      return;
    }
    const run = await runDoctor([...urls, '--only', 'jaeger', '--service', 'cloudmart-nobody']);
    assert.equal(run.code, 1, run.stdout);
    const line = lineOf(run.stdout, 'jaeger', 'traces of cloudmart-nobody');
    assert.equal(line?.mark, 'MISS', run.stdout);
    assert.match(line?.text ?? '', /Jaeger has no service cloudmart-nobody \(it knows: /);
    assert.match(line?.fix ?? '', /curl -s .*\/api\/products/);
  });

  test('everything that runs is healthy: every line ok, exit 0', async (t) => {
    if (missing || !server || !prometheus) {
      t.skip(missing);
      return;
    }
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${server.url}/api/products?limit=3`)).status, 200);
    // Spans leave in batches and Prometheus scrapes every 2 s: wait for both before asking.
    const prom = prometheus;
    await eventually(
      'every target up',
      async () => {
        const body = (await (await fetch(`${prom.url}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: { health: string }[] } };
        return body.data.activeTargets.length === 4 && body.data.activeTargets.every((x) => x.health === 'up') ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    const jaegerUrl = jaeger?.queryUrl ?? '';
    await eventually(
      'cloudmart-backend in Jaeger',
      async () => {
        const body = (await (await fetch(`${jaegerUrl}/api/services`)).json()) as { data: string[] | null };
        return body.data?.includes('cloudmart-backend') ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );

    const run = await runDoctor([...urls, '--skip', 'loki,grafana,elastic']);
    for (const l of run.stdout.trimEnd().split('\n')) t.diagnostic(l);
    assertNoStackTrace(run);
    assert.equal(run.code, 0, run.stdout);
    const expectOk = (component: string, check: string, re: RegExp) => {
      const line = lineOf(run.stdout, component, check);
      assert.equal(line?.mark, 'ok', `${component} / ${check}:\n${run.stdout}`);
      assert.match(line?.text ?? '', re);
    };
    expectOk('backend', 'ready', /ready \(postgres up \d+ ms, redis up \d+ ms\)/);
    expectOk('prometheus', 'ready', /ready/);
    expectOk('prometheus', 'targets', /^4 targets up \(alertmanager, backend, prometheus, redis\)$/);
    expectOk('prometheus', 'rules', new RegExp(`^${expectedAlertNames().length} alerting and \\d+ recording rules loaded, none failing$`));
    expectOk('prometheus', 'sends to Alertmanager', new RegExp(`sends alerts to http://127\\.0\\.0\\.1:${alertmanager?.port}/api/v2/alerts`));
    expectOk('alertmanager', 'ready', /ready \(version 0\.\d+\.\d+\)/);
    expectOk('alertmanager', 'receivers and groups', /receivers critical, default, dora, warning; /);
    expectOk('jaeger', 'traces of cloudmart-backend', /latest trace [0-9a-f]{32}: .+, \d+ span\(s\), \d+ s ago/);
    assert.match(run.stdout, /All 8 checks ok/);
  });

  test('alerts in Alertmanager: each group with the receiver the routing tree chose', async (t) => {
    if (missing || !alertmanager) {
      t.skip(missing);
      return;
    }
    // Posted the way Prometheus posts (API v2), so the routing in docker/alertmanager/alertmanager.yml decides.
    const res = await fetch(`${alertmanager.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: { alertname: 'DoctorProbe', service: 'cloudmart', severity: 'warning' }, annotations: { summary: 'doctor test' } }]),
    });
    assert.equal(res.status, 200);
    const am = alertmanager;
    await eventually(
      'the alert grouped',
      async () => {
        const groups = (await (await fetch(`${am.url}/api/v2/alerts/groups`)).json()) as { alerts: unknown[] }[];
        return groups.filter((g) => g.alerts.length > 0).length === 2 ? true : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    const run = await runDoctor([...urls, '--only', 'alertmanager']);
    assert.equal(run.code, 0, run.stdout);
    assert.equal(
      lineOf(run.stdout, 'alertmanager', 'receivers and groups')?.text,
      'receivers critical, default, dora, warning; 2 alert group(s): DoctorProbe/cloudmart → dora (1); DoctorProbe/cloudmart → warning (1)',
    );
  });

  test('an exporter that went away: the target is named, with the profile that starts it', async (t) => {
    if (missing || !redisExporter || !prometheus) {
      t.skip(missing);
      return;
    }
    await redisExporter.stop();
    redisExporter = undefined;
    const prom = prometheus;
    await eventually(
      'redis target down',
      async () => {
        const body = (await (await fetch(`${prom.url}/api/v1/targets?state=active`)).json()) as {
          data: { activeTargets: { scrapePool: string; health: string }[] };
        };
        return body.data.activeTargets.some((x) => x.scrapePool === 'redis' && x.health === 'down') ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    const run = await runDoctor([...urls, '--only', 'prometheus']);
    assert.equal(run.code, 1, run.stdout);
    const line = lineOf(run.stdout, 'prometheus', 'targets');
    assert.equal(line?.mark, 'MISS', run.stdout);
    assert.match(line?.text ?? '', /^1 of 4 targets not up: redis 127\.0\.0\.1:\d+ down \(dial tcp 127\.0\.0\.1:\d+: connect: connection refused\)$/);
    assert.equal(line?.fix, 'start the exporters profile: docker compose -f compose/compose.yaml --profile exporters up -d');
  });
});
