/**
 * Grafana provisioning and dashboards: valid JSON, unique uids, datasource
 * references that resolve to provisioned uids, and PromQL that the pinned
 * Prometheus's parser accepts (checked through promtool on a generated rule file).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { requireTool, runTool } from '../helpers/tools';
import {
  GRAFANA_VARIABLES,
  composeServices,
  dashboardPanels,
  dashboardPromQL,
  dashboardQueries,
  dashboards,
  dashboardsDir,
  provisionedDatasources,
  readYaml,
  must,
  recordingRuleNames,
  type DashboardQuery,
  type Yaml,
} from '../helpers/stack';

/** PromQL of every dashboard, Grafana variables substituted (for e2e tests too). */
export { dashboardPromQL };

const EXPECTED_DASHBOARDS = ['cloudmart-red', 'nodejs-runtime', 'postgres', 'redis', 'host', 'containers', 'alerts-overview', 'dora'];
const datasources = provisionedDatasources();
const dsByUid = new Map<string, Yaml>(datasources.map((d) => [d.uid, d]));

test('every dashboard file is valid JSON with a unique uid and title', () => {
  const files = fs.readdirSync(dashboardsDir).filter((f) => f.endsWith('.json'));
  const uids = new Set<string>();
  const titles = new Set<string>();
  for (const f of files) {
    const json = JSON.parse(fs.readFileSync(path.join(dashboardsDir, f), 'utf8'));
    assert.ok(json.uid && json.uid.length <= 40, `${f}: uid`);
    assert.ok(!uids.has(json.uid), `${f}: duplicate uid ${json.uid}`);
    assert.ok(!titles.has(json.title), `${f}: duplicate title ${json.title}`);
    assert.equal(json.id, undefined, `${f}: no numeric id (Grafana assigns it)`);
    uids.add(json.uid);
    titles.add(json.title);
    const panelIds = dashboardPanels(json).map((p) => p.id);
    assert.equal(new Set(panelIds).size, panelIds.length, `${f}: unique panel ids`);
  }
  for (const uid of EXPECTED_DASHBOARDS) assert.ok(uids.has(uid), `dashboard ${uid}`);
});

test('datasources: fixed uids and the cross-links between metrics, logs and traces', () => {
  for (const uid of ['prometheus', 'loki', 'jaeger', 'elasticsearch-apm']) assert.ok(dsByUid.has(uid), `datasource uid ${uid}`);
  assert.equal(new Set(datasources.map((d) => d.uid)).size, datasources.length, 'unique datasource uids');
  const prom = dsByUid.get('prometheus');
  assert.equal(prom.type, 'prometheus');
  assert.deepEqual(
    prom.jsonData.exemplarTraceIdDestinations.map((e: Yaml) => [e.name, e.datasourceUid]),
    [['trace_id', 'jaeger']],
  );
  const loki = dsByUid.get('loki');
  const derived = loki.jsonData.derivedFields.find((f: Yaml) => f.datasourceUid === 'jaeger');
  assert.ok(derived, 'Loki derived field to Jaeger');
  const re = new RegExp(derived.matcherRegex);
  assert.equal(re.exec('{"level":"info","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}')?.[1], '4bf92f3577b34da6a3ce929d0e0e4736');
  const jaeger = dsByUid.get('jaeger');
  assert.equal(jaeger.type, 'jaeger');
  assert.equal(jaeger.jsonData.tracesToLogsV2.datasourceUid, 'loki');
  assert.equal(jaeger.jsonData.tracesToLogsV2.filterByTraceID, true);
  const es = dsByUid.get('elasticsearch-apm');
  assert.equal(es.type, 'elasticsearch');
  assert.equal(es.jsonData.index, 'traces-apm*');
  assert.equal(es.jsonData.timeField, '@timestamp');
  // every cross-link points at a provisioned uid
  const linked = [
    ...prom.jsonData.exemplarTraceIdDestinations.map((e: Yaml) => e.datasourceUid),
    ...loki.jsonData.derivedFields.map((f: Yaml) => f.datasourceUid),
    jaeger.jsonData.tracesToLogsV2.datasourceUid,
    jaeger.jsonData.tracesToMetrics?.datasourceUid,
  ].filter(Boolean);
  for (const uid of linked) assert.ok(dsByUid.has(uid), `linked uid ${uid} is provisioned`);
});

test('every datasource a dashboard names is provisioned, with the right type', () => {
  for (const { file, json } of dashboards()) {
    const refs: Yaml[] = [];
    for (const p of dashboardPanels(json)) {
      if (p.type === 'row') continue;
      refs.push(p.datasource, ...(p.targets ?? []).map((t: Yaml) => t.datasource));
    }
    for (const v of json.templating?.list ?? []) if (v.datasource) refs.push(v.datasource);
    for (const ref of refs.filter(Boolean)) {
      assert.equal(typeof ref, 'object', `${file}: datasource referenced as {type, uid}, not by name`);
      const ds = dsByUid.get(ref.uid);
      assert.ok(ds, `${file}: datasource uid ${ref.uid} is not provisioned`);
      assert.equal(ref.type, ds.type, `${file}: datasource ${ref.uid} has type ${ds.type}`);
    }
  }
});

test('every panel target has an expression and an explicit datasource', () => {
  const queries = dashboardQueries();
  assert.ok(queries.length > 50);
  for (const q of queries) {
    assert.ok(typeof q.expr === 'string' && q.expr.trim().length > 0, `${q.dashboard} / ${q.panel}: target without expr`);
    assert.ok(q.datasource?.uid, `${q.dashboard} / ${q.panel}: target without datasource`);
  }
  for (const { json } of dashboards()) {
    for (const p of dashboardPanels(json)) {
      if (['row', 'alertlist', 'text'].includes(p.type)) continue;
      assert.ok((p.targets ?? []).length > 0, `${json.uid} / ${p.title}: panel without targets`);
    }
  }
});

test('PromQL uses only the documented Grafana variables', () => {
  for (const q of dashboardQueries().filter((x) => x.datasource.type === 'prometheus')) {
    for (const m of q.expr.matchAll(/\$\{?(\w+)/g)) {
      assert.ok(GRAFANA_VARIABLES.includes(m[1] ?? ''), `${q.dashboard} / ${q.panel}: variable $${m[1]}`);
    }
    const unresolved = must(
      dashboardPromQL().find((x) => x.expr === q.expr),
      q.expr,
    ).promql;
    assert.doesNotMatch(unresolved, /\$/, `${q.dashboard} / ${q.panel}: unresolved variable`);
  }
  for (const { json } of dashboards()) {
    for (const v of json.templating?.list ?? []) assert.ok(GRAFANA_VARIABLES.includes(v.name), `${json.uid}: template variable ${v.name}`);
  }
});

test('recording rules the dashboards use are defined', () => {
  const defined = new Set(recordingRuleNames());
  for (const q of dashboardQueries()) {
    if (q.datasource.type !== 'prometheus') continue;
    for (const m of q.expr.matchAll(/\b([a-z_]+:[a-z0-9_]+:[a-z0-9_]+)\b/g)) {
      assert.ok(defined.has(m[1] ?? ''), `${q.dashboard} / ${q.panel}: recording rule ${m[1]} is not defined`);
    }
  }
});

test('RED dashboard: rate, errors, p50/p95/p99 per route with exemplars, in-flight, logs', () => {
  const red = dashboardQueries().filter((q) => q.dashboard === 'cloudmart-red');
  const prom = red
    .filter((q) => q.datasource.type === 'prometheus')
    .map((q) => q.expr)
    .join('\n');
  for (const needle of ['http_requests_total', 'http_request_errors:ratio_rate1m', 'http_requests_in_flight', 'route=~"$route"']) {
    assert.ok(prom.includes(needle), `RED dashboard uses ${needle}`);
  }
  const latency = red.filter((q) => q.expr.includes('http_request_duration_seconds_bucket'));
  for (const quantile of ['0.50', '0.95', '0.99']) {
    const q = latency.find((x) => x.expr.includes(`histogram_quantile(${quantile}`));
    assert.ok(q, `p${quantile} latency query`);
    assert.ok(q.exemplar, `p${quantile} latency query shows exemplars`);
  }
  const logs = red.find((q: DashboardQuery) => q.datasource.type === 'loki');
  assert.ok(logs, 'logs panel');
  assert.equal(logs.expr, '{service="backend"} | json');
});

test('the runtime, dependency, DORA and alert dashboards query the series they are named for', () => {
  const exprs = (uid: string) =>
    dashboardQueries()
      .filter((q) => q.dashboard === uid)
      .map((q) => q.expr)
      .join('\n');
  const expect: Record<string, string[]> = {
    'nodejs-runtime': [
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds_bucket',
      'nodejs_gc_duration_seconds_sum',
      'nodejs_gc_duration_seconds_count',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
    ],
    postgres: ['pg_up', 'pg_stat_database_'],
    redis: ['redis_up', 'redis_connected_clients', 'redis_commands_processed_total', 'redis_memory_used_bytes'],
    host: ['node_cpu_seconds_total', 'node_memory_MemAvailable_bytes', 'node_filesystem_avail_bytes'],
    containers: ['container_cpu_usage_seconds_total', 'container_memory_working_set_bytes'],
    'alerts-overview': ['ALERTS'],
    dora: [
      'cloudmart_dora_deployment_frequency_per_day',
      'cloudmart_dora_lead_time_seconds',
      'cloudmart_dora_change_failure_ratio',
      'cloudmart_dora_time_to_restore_seconds',
      'cloudmart_dora_rating',
      'cloudmart_dora_open_incidents',
    ],
  };
  for (const [uid, needles] of Object.entries(expect)) {
    const text = exprs(uid);
    for (const n of needles) assert.ok(text.includes(n), `${uid} uses ${n}`);
  }
});

test('dashboard provider path is where compose mounts the dashboards', () => {
  const provider = readYaml('docker/grafana/provisioning/dashboards/dashboards.yml').providers[0];
  const grafana = must(
    composeServices().find((s) => s.name === 'grafana'),
    'grafana service',
  );
  const mount = grafana.svc.volumes.find((v: string) => v.startsWith('../docker/grafana/dashboards:'));
  assert.ok(mount, 'compose mounts docker/grafana/dashboards');
  assert.equal(mount.split(':')[1], provider.options.path);
});

test('every dashboard PromQL expression parses with the pinned promtool', (t) => {
  const promtool = requireTool('promtool', t);
  if (!promtool) return;
  const queries = dashboardPromQL();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cloudmart-dash-'));
  try {
    const file = path.join(tmp, 'dashboards.rules.yml');
    const ruleList = queries.map((q, i) => ({ record: `dashboard:expr_${i}:check`, expr: q.promql }));
    fs.writeFileSync(file, stringifyYaml({ groups: [{ name: 'dashboards', rules: ruleList }] }));
    const res = runTool(promtool, ['check', 'rules', file]);
    assert.equal(res.status, 0, res.output);
    assert.match(res.output, new RegExp(`SUCCESS: ${queries.length} rules found`));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('every alert-list panel filters by a rule source that exists: a provisioned Prometheus or Loki datasource that manages alerts', () => {
  // Grafana's alert list keeps the rules whose rule source's name equals options.datasource;
  // an Alertmanager datasource is never a rule source, so naming one empties the panel.
  const ruleSources = new Map<string, Yaml>(
    provisionedDatasources()
      .filter((ds: Yaml) => ['prometheus', 'loki'].includes(ds.type) && ds.jsonData?.manageAlerts !== false)
      .map((ds: Yaml) => [ds.name, ds]),
  );
  let panels = 0;
  for (const { json } of dashboards()) {
    for (const p of dashboardPanels(json).filter((x) => x.type === 'alertlist')) {
      panels += 1;
      const source = p.options?.datasource;
      if (source === undefined || source === '') continue; // no filter: every rule source
      assert.ok(ruleSources.has(source), `${json.uid} / ${p.title}: "${source}" is not a rule source (${[...ruleSources.keys()].join(', ')})`);
    }
  }
  assert.ok(panels >= 1, 'the alerts overview has an alert list');
  // The project's alert rules are evaluated by Prometheus: its datasource must be the one listed.
  const overview = dashboardPanels(
    must(
      dashboards().find((d) => d.file === 'alerts-overview.json'),
      'alerts-overview.json',
    ).json,
  );
  const list = must(
    overview.find((p: Yaml) => p.type === 'alertlist'),
    'alert list panel',
  );
  assert.equal(ruleSources.get(list.options.datasource)?.type, 'prometheus');
});
