/**
 * Loki 3, Promtail 3.6 and Grafana Alloy configs: no keys Loki 3 removed,
 * TSDB + schema v13, trace ids as structured metadata (never labels), and the
 * field names the pipeline extracts (exported for tests that compare them to
 * the service's real log lines).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alloyBlock,
  alloyMapKeys,
  composeServices,
  must,
  promtailJsonFields,
  promtailLabelNames,
  promtailStructuredMetadataNames,
  readText,
  readYaml,
  type Yaml,
} from '../helpers/stack';

/** JSON field names the Promtail pipeline extracts from the backend's log lines. */
export { promtailJsonFields };

const REMOVED_IN_LOKI_3 = ['shared_store', 'enforce_metric_name', 'boltdb-shipper', 'boltdb_shipper'];
const FIELDS = ['level', 'msg', 'trace_id', 'span_id', 'trace_flags', 'route', 'status_code', 'req_id'];
const CONFIGS = ['docker/loki/loki.yaml', 'docker/promtail/promtail.yaml', 'docker/alloy/config.alloy'];

test('Loki, Promtail and Alloy configs hold none of the keys Loki 3 removed', () => {
  for (const file of CONFIGS) {
    const text = readText(file);
    for (const key of REMOVED_IN_LOKI_3) assert.ok(!text.includes(key), `${file} contains ${key}`);
  }
});

test('Loki 3: TSDB index, schema v13, filesystem storage, structured metadata allowed', () => {
  const loki = readYaml('docker/loki/loki.yaml');
  const configs = loki.schema_config.configs;
  assert.ok(configs.length >= 1);
  for (const c of configs) {
    assert.equal(c.store, 'tsdb');
    assert.equal(c.schema, 'v13');
    assert.equal(c.object_store, 'filesystem');
    assert.equal(c.index.period, '24h');
    assert.ok(new Date(c.from).getTime() < Date.now(), 'schema starts in the past');
  }
  assert.ok(loki.common.storage.filesystem);
  assert.equal(loki.limits_config.allow_structured_metadata, true);
  assert.equal(loki.auth_enabled, false);
  // Retention is on, and in Loki 3 it needs the compactor's delete request store.
  assert.equal(loki.compactor.retention_enabled, true);
  assert.equal(loki.compactor.delete_request_store, 'filesystem');
});

test('Promtail: Docker service discovery on the socket, filtered by the compose label', () => {
  const cfg = readYaml('docker/promtail/promtail.yaml');
  const sd = cfg.scrape_configs[0].docker_sd_configs[0];
  assert.equal(sd.host, 'unix:///var/run/docker.sock');
  const filter = sd.filters.find((f: { name: string }) => f.name === 'label');
  assert.deepEqual(filter.values, ['logging=promtail']);
  assert.equal(cfg.clients[0].url, 'http://loki:3100/loki/api/v1/push');
  const relabels = cfg.scrape_configs[0].relabel_configs;
  assert.ok(relabels.some((r: Yaml) => r.target_label === 'service' && r.source_labels[0] === '__meta_docker_container_label_com_docker_compose_service'));
  const backend = must(
    composeServices().find((s) => s.name === 'backend'),
    'backend service',
  );
  assert.equal(backend.svc.labels.logging, 'promtail', 'the backend carries the label promtail filters on');
  const promtail = must(
    composeServices().find((s) => s.name === 'promtail'),
    'promtail service',
  );
  assert.ok(promtail.svc.volumes.some((v: string) => v.startsWith('/var/run/docker.sock:/var/run/docker.sock')));
});

test('Promtail pipeline: json fields, level as the only label, trace context as structured metadata', () => {
  const fields = promtailJsonFields();
  for (const f of FIELDS) assert.ok(fields.includes(f), `json stage extracts ${f}`);
  const labels = promtailLabelNames();
  assert.deepEqual(labels, ['level']);
  for (const forbidden of ['trace_id', 'span_id', 'req_id']) assert.ok(!labels.includes(forbidden), `${forbidden} must not be a label`);
  assert.deepEqual(promtailStructuredMetadataNames(), ['span_id', 'trace_flags', 'trace_id']);
});

test('Alloy: the same pipeline as Promtail', () => {
  const text = readText('docker/alloy/config.alloy');
  assert.match(text, /discovery\.docker\s+"\w+"\s*\{[^}]*host\s*=\s*"unix:\/\/\/var\/run\/docker\.sock"/);
  assert.match(text, /values\s*=\s*\["logging=promtail"\]/);
  assert.match(text, /loki\.source\.docker\s+"\w+"/);
  assert.match(text, /url\s*=\s*"http:\/\/loki:3100\/loki\/api\/v1\/push"/);
  const json = alloyBlock(text, 'stage.json');
  const labels = alloyBlock(text, 'stage.labels');
  const meta = alloyBlock(text, 'stage.structured_metadata');
  assert.ok(json && labels && meta, 'stage.json, stage.labels and stage.structured_metadata blocks');
  assert.deepEqual(alloyMapKeys(json, 'expressions'), [...promtailJsonFields()].sort());
  assert.deepEqual(alloyMapKeys(labels, 'values'), promtailLabelNames());
  assert.deepEqual(alloyMapKeys(meta, 'values'), promtailStructuredMetadataNames());
  // balanced braces: a cheap syntax sanity check
  const opens = (text.match(/\{/g) ?? []).length;
  const closes = (text.match(/\}/g) ?? []).length;
  assert.equal(opens, closes);
});

test('promtailJsonFields() lists the fields a pino line of the service carries', () => {
  // The shape the service logs (issue 3); the lead ties this to the real output.
  const sample = {
    level: 'info',
    time: '2026-01-01T00:00:00.000Z',
    msg: 'request completed',
    service: 'cloudmart-backend',
    trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    span_id: '00f067aa0ba902b7',
    trace_flags: '01',
    req_id: 'r-1',
    method: 'GET',
    route: '/api/products',
    status_code: 200,
    duration_ms: 12.3,
  };
  for (const f of promtailJsonFields()) assert.ok(f in sample, `the pipeline extracts ${f}, which a log line carries`);
});
