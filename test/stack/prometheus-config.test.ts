/**
 * Prometheus, its rules and Alertmanager, checked with the real tools at the
 * versions Compose ships (promtool and amtool, built by scripts/backends.sh) plus structural cross-checks between
 * rules, rule tests, runbooks, Alertmanager routing and the compose services.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { requireTool, runTool } from '../helpers/tools';
import {
  alertRules,
  composeServices,
  parseDuration,
  readText,
  readYaml,
  repoRoot,
  ruleFiles,
  ruleTestFiles,
  type AlertRule,
  type Yaml,
} from '../helpers/stack';

const promDir = path.join(repoRoot, 'docker', 'prometheus');
const amConfig = path.join(repoRoot, 'docker', 'alertmanager', 'alertmanager.yml');

const REQUIRED_ALERTS = [
  'HTTPErrorRate',
  'DatabaseConnectionFailed',
  'HighCPUUsage',
  'HighMemoryUsage',
  'ServiceDown',
  'HighRequestLatency',
  'RedisDown',
  'HighEventLoopLag',
  'ContainerMemoryNearLimit',
  'DiskSpaceLow',
];
const REQUIRED_JOBS = ['backend', 'prometheus', 'alertmanager', 'node-exporter', 'cadvisor', 'postgres', 'redis', 'jaeger', 'grafana', 'loki'];

const rules = alertRules();
const rule = (name: string): AlertRule => {
  const r = rules.find((x) => x.alert === name);
  assert.ok(r, `alert ${name} exists`);
  return r;
};

test('promtool check config (rule_files pointed at a temp copy of the rules)', (t) => {
  const promtool = requireTool('promtool', t);
  if (!promtool) return;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cloudmart-prom-'));
  try {
    fs.cpSync(path.join(promDir, 'rules'), path.join(tmp, 'rules'), { recursive: true });
    const original = fs.readFileSync(path.join(promDir, 'prometheus.yml'), 'utf8');
    assert.ok(original.includes('/etc/prometheus/rules/'), 'prometheus.yml loads /etc/prometheus/rules/*.yml');
    fs.writeFileSync(path.join(tmp, 'prometheus.yml'), original.replaceAll('/etc/prometheus/rules/', `${tmp}/rules/`));
    const res = runTool(promtool, ['check', 'config', path.join(tmp, 'prometheus.yml')]);
    assert.equal(res.status, 0, res.output);
    assert.match(res.output, /SUCCESS/);
    assert.doesNotMatch(res.output, /0 rule files found/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('promtool check rules', (t) => {
  const promtool = requireTool('promtool', t);
  if (!promtool) return;
  const res = runTool(promtool, ['check', 'rules', ...ruleFiles()]);
  assert.equal(res.status, 0, res.output);
});

test('promtool test rules', (t) => {
  const promtool = requireTool('promtool', t);
  if (!promtool) return;
  const files = ruleTestFiles();
  assert.ok(files.length > 0);
  const res = runTool(promtool, ['test', 'rules', ...files], { cwd: repoRoot, timeoutMs: 120_000 });
  assert.equal(res.status, 0, res.output);
  assert.doesNotMatch(res.output, /FAILED/);
});

test('every alert rule has a unit test where it fires and one where it stays quiet', () => {
  const fires = new Set<string>();
  const quiet = new Set<string>();
  for (const f of ruleTestFiles()) {
    const doc = parseYaml(fs.readFileSync(f, 'utf8'));
    for (const tc of doc.tests ?? []) {
      for (const a of tc.alert_rule_test ?? []) {
        if ((a.exp_alerts ?? []).length > 0) {
          fires.add(a.alertname);
          for (const e of a.exp_alerts) {
            const r = rule(a.alertname);
            assert.deepEqual(
              Object.keys(e.exp_annotations ?? {}).sort(),
              Object.keys(r.annotations).sort(),
              `${a.alertname}: the firing case checks every annotation`,
            );
            for (const [k, v] of Object.entries(r.labels)) assert.equal(e.exp_labels?.[k], v, `${a.alertname}: the firing case checks label ${k}`);
          }
        } else quiet.add(a.alertname);
      }
    }
  }
  for (const r of rules) {
    assert.ok(fires.has(r.alert), `${r.alert} has a firing test`);
    assert.ok(quiet.has(r.alert), `${r.alert} has a quiet test`);
  }
});

test('alerts: required names, severity and service labels, annotations, runbook anchors', () => {
  const names = rules.map((r) => r.alert);
  for (const n of REQUIRED_ALERTS) assert.ok(names.includes(n), `alert ${n}`);
  assert.equal(new Set(names).size, names.length, 'alert names are unique');
  const runbooks = readText('docs/runbooks.md');
  const anchors = new Set([...runbooks.matchAll(/^##\s+(\S+)\s*$/gm)].map((m) => (m[1] ?? '').toLowerCase()));
  for (const r of rules) {
    assert.match(r.labels.severity ?? '', /^(critical|warning)$/, `${r.alert} severity`);
    assert.ok(r.labels.service, `${r.alert} service label`);
    for (const a of ['summary', 'description', 'runbook_url']) assert.ok(r.annotations[a], `${r.alert} annotation ${a}`);
    assert.equal(r.annotations.runbook_url, `https://github.com/cloudmart/cloudmart/blob/main/docs/runbooks.md#${r.alert.toLowerCase()}`);
    assert.ok(anchors.has(r.alert.toLowerCase()), `docs/runbooks.md has a "## ${r.alert}" section`);
  }
});

test('alerts use real series and short windows for the backend', () => {
  assert.match(rule('DatabaseConnectionFailed').expr, /\bpg_up\s*==\s*0/);
  assert.doesNotMatch(rule('DatabaseConnectionFailed').expr, /\bup\{/);
  assert.match(rule('RedisDown').expr, /\bredis_up\s*==\s*0/);
  assert.match(rule('HighCPUUsage').expr, /node_cpu_seconds_total\{mode="idle"\}/);
  assert.match(rule('HighMemoryUsage').expr, /node_memory_MemAvailable_bytes/);
  assert.match(rule('ContainerMemoryNearLimit').expr, /container_spec_memory_limit_bytes[^)]*>\s*0/);
  assert.match(rule('DiskSpaceLow').expr, /fstype!~"tmpfs\|overlay"/);
  const all = rules.map((r) => r.expr).join('\n');
  for (const bogus of ['cpu_usage_total', 'memory_usage_bytes']) assert.ok(!all.includes(bogus), `no ${bogus} (nothing emits it)`);
  for (const r of rules.filter((x) => x.expr.includes('job="backend"'))) {
    assert.ok(parseDuration(r.for) <= 120, `${r.alert}: for ${r.for} <= 2m`);
    for (const m of r.expr.matchAll(/\[(\w+)\]/g)) assert.ok(parseDuration(m[1]) <= 60, `${r.alert}: range [${m[1]}] <= 1m`);
  }
  assert.equal(parseDuration(rule('HTTPErrorRate').for), 120);
  assert.equal(parseDuration(rule('ServiceDown').for), 60);
  assert.equal(parseDuration(rule('DatabaseConnectionFailed').for), 60);
});

test('prometheus.yml: scrape jobs, backend every 5s, alerting and rule files', () => {
  const cfg = readYaml('docker/prometheus/prometheus.yml');
  const jobs = cfg.scrape_configs.map((s: { job_name: string }) => s.job_name);
  for (const j of REQUIRED_JOBS) assert.ok(jobs.includes(j), `scrape job ${j}`);
  const backend = cfg.scrape_configs.find((s: { job_name: string }) => s.job_name === 'backend');
  assert.equal(backend.scrape_interval, '5s');
  // Every replica of the Compose service by DNS, each its own instance; no static target.
  assert.equal(backend.static_configs, undefined);
  assert.deepEqual(backend.dns_sd_configs, [{ names: ['backend'], type: 'A', port: 3000, refresh_interval: '5s' }]);
  assert.deepEqual(backend.file_sd_configs[0].files, ['/etc/prometheus/targets/backend.yml']);
  assert.deepEqual(cfg.rule_files, ['/etc/prometheus/rules/*.yml']);
  assert.deepEqual(cfg.alerting.alertmanagers[0].static_configs[0].targets, ['alertmanager:9093']);
  const jaeger = cfg.scrape_configs.find((s: { job_name: string }) => s.job_name === 'jaeger');
  const jaegerTargets = jaeger.static_configs.flatMap((s: { targets: string[] }) => s.targets);
  assert.ok(jaegerTargets.includes('jaeger:8888') && jaegerTargets.includes('jaeger:8889'));
});

test('retention is set in prometheus.yml (3.x), not by the deprecated flag', () => {
  assert.equal(readYaml('docker/prometheus/prometheus.yml').storage.tsdb.retention.time, '30d');
  const prometheus = composeServices().find((s) => s.name === 'prometheus');
  assert.ok(prometheus, 'compose has prometheus');
  const flags: string[] = prometheus.svc.command;
  assert.ok(!flags.some((f) => f.startsWith('--storage.tsdb.retention')), flags.join(' '));
});

test('every scrape target is a compose service on a port it listens on', () => {
  const cfg = readYaml('docker/prometheus/prometheus.yml');
  const services = new Set(composeServices().map((s) => s.name));
  const KNOWN_PORTS: Record<string, string[]> = {
    backend: ['3000'],
    prometheus: ['9090'],
    alertmanager: ['9093'],
    grafana: ['3000'],
    loki: ['3100'],
    jaeger: ['8888', '8889'],
    'otel-collector': ['8888'],
    'node-exporter': ['9100'],
    cadvisor: ['8080'],
    'postgres-exporter': ['9187'],
    'redis-exporter': ['9121'],
  };
  for (const sc of cfg.scrape_configs) {
    const dnsTargets = (sc.dns_sd_configs ?? []).flatMap((d: { names: string[]; port: number }) => d.names.map((n) => `${n}:${d.port}`));
    const staticTargets = (sc.static_configs ?? []).flatMap((s: { targets: string[] }) => s.targets);
    for (const target of [...staticTargets, ...dnsTargets]) {
      const [host, port] = target.split(':');
      const name = host === 'localhost' ? sc.job_name : host;
      assert.ok(services.has(name), `${sc.job_name}: ${target} is a compose service`);
      assert.ok(KNOWN_PORTS[name]?.includes(port), `${sc.job_name}: ${target} port`);
    }
  }
});

test('Jaeger v2 config: OTLP in, spanmetrics -> Prometheus exporter on 8889, SPM reads Prometheus', () => {
  const j = readYaml('docker/jaeger/config.yaml');
  assert.equal(j.receivers.otlp.protocols.grpc.endpoint, '0.0.0.0:4317');
  assert.equal(j.receivers.otlp.protocols.http.endpoint, '0.0.0.0:4318');
  assert.ok(j.service.pipelines.traces.exporters.includes('spanmetrics'));
  assert.ok(j.service.pipelines['metrics/spanmetrics'].receivers.includes('spanmetrics'));
  assert.equal(j.exporters.prometheus.endpoint, '0.0.0.0:8889');
  const metricsStore = j.extensions.jaeger_query.storage.metrics;
  assert.equal(j.extensions.jaeger_storage.metric_backends[metricsStore].prometheus.endpoint, 'http://prometheus:9090');
  assert.equal(j.extensions.jaeger_query.http.endpoint, '0.0.0.0:16686');
  assert.equal(j.service.telemetry.metrics.readers[0].pull.exporter.prometheus.port, 8888);
});

test('amtool check-config', (t) => {
  const amtool = requireTool('amtool', t);
  if (!amtool) return;
  const res = runTool(amtool, ['check-config', amConfig]);
  assert.equal(res.status, 0, res.output);
  assert.match(res.output, /SUCCESS/);
});

test('alertmanager.yml: severity routes, catch-all DORA webhook, inhibitions that can match, rewritable URLs', () => {
  const am = readYaml('docker/alertmanager/alertmanager.yml');
  assert.deepEqual([...am.route.group_by].sort(), ['alertname', 'service']);
  const [first, ...rest] = am.route.routes;
  assert.equal(first.receiver, 'dora');
  assert.equal(first.continue, true);
  assert.ok(!first.matchers && !first.match && !first.match_re, 'the dora route matches every alert');
  const severities = rest.flatMap((r: { matchers?: string[] }) => r.matchers ?? []).join(' ');
  assert.match(severities, /severity\s*=\s*"critical"/);
  assert.match(severities, /severity\s*=\s*"warning"/);

  const receivers = new Map<string, Yaml>(am.receivers.map((r: { name: string }) => [r.name, r]));
  assert.ok(receivers.has(am.route.receiver), 'default receiver exists');
  assert.equal(receivers.get('dora').webhook_configs[0].url, 'http://backend:3000/api/dora/alertmanager');
  for (const [name, r] of receivers) {
    const kinds = Object.keys(r).filter((k) => k.endsWith('_configs'));
    assert.deepEqual(kinds, ['webhook_configs'], `${name}: webhook only (Slack/e-mail stay comments)`);
    for (const w of r.webhook_configs) {
      assert.ok(w.url.startsWith('http://backend:3000/'), `${name}: ${w.url} rewritable by replacing http://backend:3000`);
      assert.equal(w.send_resolved, true, `${name}: send_resolved`);
    }
  }
  const text = fs.readFileSync(amConfig, 'utf8');
  assert.match(text, /#\s*slack_configs:/);
  assert.match(text, /#\s*email_configs:/);

  // Inhibitions: the `equal` labels must be static alert labels with the same value on both sides.
  const matcherValue = (ms: string[], label: string) => ms.map((m) => new RegExp(`^${label}\\s*(=~?)\\s*"(.*)"$`).exec(m)).find(Boolean);
  const namesOf = (ms: string[]) => {
    const m = matcherValue(ms, 'alertname');
    assert.ok(m, 'inhibit rules select by alertname');
    const value = m[2] ?? '';
    return m[1] === '=~' ? rules.map((r) => r.alert).filter((a) => new RegExp(`^(?:${value})$`).test(a)) : [value];
  };
  const pairs: string[] = [];
  for (const ir of am.inhibit_rules) {
    for (const src of namesOf(ir.source_matchers)) {
      for (const tgt of namesOf(ir.target_matchers)) {
        pairs.push(`${src}->${tgt}`);
        for (const label of ir.equal ?? []) {
          const a = rule(src).labels[label];
          const b = rule(tgt).labels[label];
          assert.ok(a !== undefined && a === b, `${src} inhibits ${tgt} on ${label}: ${a} vs ${b}`);
        }
      }
    }
  }
  for (const p of ['DatabaseConnectionFailed->HTTPErrorRate', 'ServiceUnavailable->HTTPErrorRate', 'ServiceUnavailable->HighRequestLatency']) {
    assert.ok(pairs.includes(p), `inhibition ${p}`);
  }
});
