import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import YAML from 'yaml';
import { freePort } from '../../testkit/server-process';
import { dockerDir, parseDuration } from './stack';

/**
 * Real Prometheus and Alertmanager (the pinned releases, built by scripts/backends.sh)
 * and exporters (Debian's packages) run with the
 * project's own configuration. What a test may change is limited to what cannot
 * be the same outside Compose: targets, URLs and the scrape/evaluation interval.
 */

export interface ManagedProcess {
  url: string;
  port: number;
  output: string[];
  stop(): Promise<void>;
}

export async function startManaged(bin: string, args: string[], port: number, readyPath: string, env: Record<string, string> = {}): Promise<ManagedProcess> {
  const child: ChildProcess = spawn(bin, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (b: Buffer) => {
    output.push(...b.toString().split('\n').filter(Boolean));
    if (output.length > 500) output.splice(0, output.length - 500);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${bin} exited with ${child.exitCode}:\n${output.slice(-20).join('\n')}`);
    const ok = await fetch(`${url}${readyPath}`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${bin} not ready in time:\n${output.slice(-20).join('\n')}`);
    }
    await sleep(200);
  }
  return {
    url,
    port,
    output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      // Cleared once it exits: a pending timer would keep the test file's process alive.
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(kill);
    },
  };
}

function tempDir(label: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `cloudmart-${label}-`));
}

export interface PrometheusTargets {
  backend?: string;
  postgres?: string;
  redis?: string;
  alertmanager?: string;
  /** Jaeger's own telemetry and its spanmetrics exporter (8888 and 8889 in Compose). */
  jaeger?: string[];
}

type Yaml = Record<string, unknown>;

/** The shipped docker/prometheus/prometheus.yml, its intervals the test's and its rule files read from rulesDir. */
export function shippedPrometheusConfig(rulesDir: string, interval: Intervals): Yaml {
  const config = YAML.parse(readFileSync(path.join(dockerDir, 'prometheus', 'prometheus.yml'), 'utf8')) as Yaml;
  const global = config.global as Yaml;
  global.scrape_interval = interval.scrape;
  global.evaluation_interval = interval.evaluation;
  global.scrape_timeout = interval.scrape;
  config.rule_files = [path.join(rulesDir, '*.yml')];
  return config;
}

/** docker/prometheus/prometheus.yml with only targets, URLs and intervals changed. */
export function testPrometheusConfig(targets: PrometheusTargets, rulesDir: string, selfAddress: string, interval: Intervals): string {
  const config = shippedPrometheusConfig(rulesDir, interval);
  const one = (target: string | undefined) => (target === undefined ? undefined : [target]);
  const byJob: Record<string, string[] | undefined> = {
    backend: one(targets.backend),
    prometheus: [selfAddress],
    postgres: one(targets.postgres),
    redis: one(targets.redis),
    alertmanager: one(targets.alertmanager),
    jaeger: targets.jaeger,
  };
  const jobs = (config.scrape_configs as Yaml[]).filter((j) => byJob[String(j.job_name)] !== undefined);
  for (const job of jobs) {
    job.static_configs = [{ targets: byJob[String(job.job_name)] }];
    // One given target stands in for the job's service discovery (DNS, files).
    delete job.dns_sd_configs;
    delete job.file_sd_configs;
    if (job.scrape_interval) job.scrape_interval = interval.scrape;
    if (job.scrape_timeout) job.scrape_timeout = interval.scrape;
  }
  config.scrape_configs = jobs;
  config.alerting = targets.alertmanager ? { alertmanagers: [{ static_configs: [{ targets: [targets.alertmanager] }] }] } : undefined;
  return YAML.stringify(config);
}

export interface Intervals {
  scrape: string;
  evaluation: string;
}

/**
 * Scrapes every 2 s (postgres-exporter needs about 1 s to report a dead database,
 * so a 1 s scrape timeout would lose pg_up exactly when it matters) and evaluates
 * rules every second.
 */
export async function startPrometheus(
  bin: string,
  targets: PrometheusTargets,
  interval: Intervals = { scrape: '2s', evaluation: '1s' },
  opts: { forDivisor?: number } = {},
): Promise<ManagedProcess> {
  const dir = tempDir('prometheus');
  const rulesDir = path.join(dir, 'rules');
  mkdirSync(rulesDir);
  // The rule files themselves are copied byte for byte, unless a test asks for shorter `for:`.
  cpSync(path.join(dockerDir, 'prometheus', 'rules'), rulesDir, { recursive: true });
  if (opts.forDivisor !== undefined) {
    for (const f of readdirSync(rulesDir)) {
      const file = path.join(rulesDir, f);
      writeFileSync(file, shortenFor(readFileSync(file, 'utf8'), opts.forDivisor));
    }
  }
  const port = await freePort();
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(configFile, testPrometheusConfig(targets, rulesDir, `127.0.0.1:${port}`, interval));
  const p = await startManaged(
    bin,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--enable-feature=exemplar-storage',
      '--web.enable-lifecycle',
    ],
    port,
    '/-/ready',
  );
  return removingDirOnStop(p, dir);
}

/**
 * A rule file with every `for:` divided by `divisor` (1m / 6 -> 10s) and every other byte
 * as shipped: the expressions, labels and annotations stay the contracts they are, only the
 * wait for a condition that already holds gets shorter. The durations themselves are checked
 * by promtool's unit tests (docker/prometheus/tests/).
 */
export function shortenFor(ruleFileText: string, divisor: number): string {
  return ruleFileText.replace(/^([ \t]+for:[ \t]*)(\S+)[ \t]*$/gm, (_, key: string, duration: string) => {
    const seconds = parseDuration(duration) / divisor;
    if (!(seconds >= 1) || !Number.isInteger(seconds)) throw new Error(`for: ${duration} / ${divisor} is not whole seconds`);
    return `${key}${seconds}s`;
  });
}

/** The process, whose stop() also removes its working directory. */
export function removingDirOnStop(p: ManagedProcess, dir: string): ManagedProcess {
  return {
    ...p,
    stop: async () => {
      await p.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** docker/alertmanager/alertmanager.yml, its webhooks sent to webhookBase with webhookToken as the token file's content. */
export async function startAlertmanager(bin: string, webhookBase: string, webhookToken: string): Promise<ManagedProcess> {
  const dir = tempDir('alertmanager');
  const tokenFile = path.join(dir, 'webhook-token');
  writeFileSync(tokenFile, webhookToken);
  const text = readFileSync(path.join(dockerDir, 'alertmanager', 'alertmanager.yml'), 'utf8')
    .replaceAll('http://backend:3000', webhookBase)
    .replaceAll('/etc/alertmanager/webhook-token', tokenFile);
  const configFile = path.join(dir, 'alertmanager.yml');
  writeFileSync(configFile, text);
  const port = await freePort();
  const p = await startManaged(
    bin,
    [`--config.file=${configFile}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
    port,
    '/-/ready',
  );
  return removingDirOnStop(p, dir);
}

export async function startPostgresExporter(bin: string, dataSourceName: string): Promise<ManagedProcess> {
  const port = await freePort();
  return startManaged(bin, [`--web.listen-address=127.0.0.1:${port}`], port, '/metrics', { DATA_SOURCE_NAME: dataSourceName });
}

export async function startRedisExporter(bin: string, redisAddr: string): Promise<ManagedProcess> {
  const port = await freePort();
  return startManaged(bin, [`-redis.addr=${redisAddr}`, `-web.listen-address=127.0.0.1:${port}`], port, '/metrics');
}

export interface PromVectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface QueryResult {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: PromVectorSample[] };
}

export async function promQuery(prometheusUrl: string, expr: string): Promise<QueryResult> {
  const res = await fetch(`${prometheusUrl}/api/v1/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }),
  });
  return (await res.json()) as QueryResult;
}

export interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
}

export async function promAlerts(prometheusUrl: string): Promise<PromAlert[]> {
  const body = (await (await fetch(`${prometheusUrl}/api/v1/alerts`)).json()) as { data: { alerts: PromAlert[] } };
  return body.data.alerts;
}

/** When each `<alertname>:<state>` was first seen in Prometheus's alerts, polled every 500 ms until stopped. */
export interface AlertStateWatch {
  firstSeen: ReadonlyMap<string, number>;
  stop(): void;
}

export function watchAlertStates(prometheusUrl: string): AlertStateWatch {
  const firstSeen = new Map<string, number>();
  const timer = setInterval(() => {
    void promAlerts(prometheusUrl).then(
      (alerts) => {
        for (const a of alerts) {
          const key = `${a.labels.alertname}:${a.state}`;
          if (!firstSeen.has(key)) firstSeen.set(key, Date.now());
        }
      },
      () => undefined,
    );
  }, 500);
  return { firstSeen, stop: () => clearInterval(timer) };
}

export interface AmAlert {
  labels: Record<string, string>;
  status: { state: 'active' | 'suppressed' | 'unprocessed'; inhibitedBy: string[]; silencedBy: string[] };
}

export async function amAlerts(alertmanagerUrl: string): Promise<AmAlert[]> {
  return (await (await fetch(`${alertmanagerUrl}/api/v2/alerts`)).json()) as AmAlert[];
}
