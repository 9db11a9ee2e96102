/**
 * The doctor's targets line, from Prometheus's active targets: a lab service that is not
 * started (its Compose name does not resolve) is reported on an ok line, anything else down
 * is a miss with the fix for its service.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { targetsLine, type ActiveTarget } from '../../scripts/doctor/prometheus';

const COMPOSE = 'docker compose -f compose/compose.yaml';

function target(scrapePool: string, host: string, health = 'up', lastError = ''): ActiveTarget {
  return { scrapePool, scrapeUrl: `http://${host}/metrics`, labels: { instance: host }, health, lastError };
}
const notResolved = (host: string) => `Get "http://${host}/metrics": dial tcp: lookup ${host.split(':')[0]} on 127.0.0.11:53: no such host`;

test('the core set without the exporters: ok, the exporters named as not started', () => {
  const exporters = ['node-exporter:9100', 'cadvisor:8080', 'postgres-exporter:9187', 'redis-exporter:9121'];
  const line = targetsLine([
    target('backend', 'backend:3000'),
    target('prometheus', 'localhost:9090'),
    target('otel-collector', 'otel-collector:8888'),
    ...exporters.map((h, i) => target(['node-exporter', 'cadvisor', 'postgres', 'redis'][i] ?? '', h, 'down', notResolved(h))),
  ]);
  assert.equal(line.status, 'ok');
  assert.equal(line.detail, '3 targets up (backend, otel-collector, prometheus); not started: cadvisor, node-exporter, postgres-exporter, redis-exporter');
});

test('the OpenTelemetry Collector not started is reported like the other core services', () => {
  const line = targetsLine([target('backend', 'backend:3000'), target('otel-collector', 'otel-collector:8888', 'down', notResolved('otel-collector:8888'))]);
  assert.equal(line.status, 'ok');
  assert.equal(line.detail, '1 targets up (backend); not started: otel-collector');
});

test('the OpenTelemetry Collector started but down: a miss with its service to look at', () => {
  const refused = 'Get "http://otel-collector:8888/metrics": dial tcp 172.18.0.9:8888: connect: connection refused';
  const line = targetsLine([target('backend', 'backend:3000'), target('otel-collector', 'otel-collector:8888', 'down', refused)]);
  assert.equal(line.status, 'miss');
  assert.equal(line.detail, '1 of 2 targets not up: otel-collector otel-collector:8888 down (dial tcp 172.18.0.9:8888: connect: connection refused)');
  assert.equal(line.fix, `${COMPOSE} ps otel-collector and ${COMPOSE} logs --tail=50 otel-collector`);
});

test('a job the lab does not define is never "not started": a miss pointing at Target health', () => {
  const line = targetsLine([target('mine', 'mine:9000', 'down', notResolved('mine:9000'))]);
  assert.equal(line.status, 'miss');
  assert.equal(line.fix, 'Prometheus → Status → Target health shows why mine fails');
});

test('no targets, and a target never scraped yet', () => {
  assert.equal(targetsLine([]).detail, 'no scrape targets configured');
  assert.match(targetsLine([target('backend', 'backend:3000', 'unknown')]).fix ?? '', /never scraped yet shows unknown: wait 15 s/);
});
