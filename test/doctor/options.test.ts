/**
 * The doctor's defaults are the Compose stack's published ports, and every URL can be
 * overridden by flag (first) or environment variable; the Grafana password is read the
 * way Compose reads it (compose/.env) when the shell does not have it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { composeEnvValue, ENDPOINTS, parseDoctorArgs, UsageError, type DoctorOptions } from '../../scripts/doctor/options';
import { expectedAlertNames, expectedDatasourceUids, expectedReceivers } from '../../scripts/lib/stack-config';
import { composeServices, publishedPorts } from '../helpers/stack';

const NO_FILE = path.join(os.tmpdir(), 'cloudmart-doctor-no-such.env');

function parse(argv: string[], env: Record<string, string> = {}, file = NO_FILE): DoctorOptions {
  const o = parseDoctorArgs(argv, env, file);
  assert.notEqual(o, 'help');
  return o as DoctorOptions;
}

test('each default URL is the host port Compose publishes for that service', () => {
  const services = composeServices();
  const defaults = parse([]).urls;
  for (const [name, e] of Object.entries(ENDPOINTS)) {
    const svc = services.find((s) => s.name === e.composeService);
    assert.ok(svc, `compose defines ${e.composeService}`);
    const published = publishedPorts(svc.svc).map((p) => p.published.replace(/^\$\{[^:}]+:-(\d+)\}$/, '$1'));
    assert.ok(published.includes(String(e.port)), `${e.composeService} publishes ${e.port} (it publishes ${published.join(', ') || 'nothing'})`);
    assert.equal(defaults[name as keyof typeof defaults], `http://localhost:${e.port}`);
  }
});

test('a flag wins over the environment variable, which wins over the default', () => {
  const env = { PROMETHEUS_URL: 'http://monitoring:9090/', CLOUDMART_URL: 'http://app-1:3000' };
  const o = parse(['--prometheus-url', 'http://127.0.0.1:19090'], env);
  assert.equal(o.urls.prometheus, 'http://127.0.0.1:19090');
  assert.equal(o.urls.backend, 'http://app-1:3000');
  assert.equal(o.urls.grafana, 'http://localhost:3001');
  assert.equal(parse([], { PROMETHEUS_URL: 'http://monitoring:9090/' }).urls.prometheus, 'http://monitoring:9090', 'trailing slash dropped');
});

test('the Grafana password: flag, then GRAFANA_ADMIN_PASSWORD, then compose/.env, then admin', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cloudmart-doctor-'));
  try {
    const file = path.join(dir, '.env');
    writeFileSync(file, '# comment\nLOG_LEVEL=info\nGRAFANA_ADMIN_PASSWORD="s3cret pass"  \nCHAOS_TOKEN=\n');
    assert.equal(composeEnvValue('GRAFANA_ADMIN_PASSWORD', file), 's3cret pass');
    assert.equal(parse([], {}, file).grafanaPassword, 's3cret pass');
    assert.equal(parse([], {}, file).grafanaPasswordSource, 'compose/.env');
    assert.equal(parse([], { GRAFANA_ADMIN_PASSWORD: 'from-env' }, file).grafanaPassword, 'from-env');
    assert.equal(parse(['--grafana-password', 'from-flag'], { GRAFANA_ADMIN_PASSWORD: 'from-env' }, file).grafanaPassword, 'from-flag');
    assert.equal(parse([]).grafanaPassword, 'admin');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('component selection, the Elastic switch and bounds on durations', () => {
  assert.deepEqual(parse(['--only', 'jaeger,loki']).components, ['jaeger', 'loki']);
  assert.ok(!parse(['--skip', 'elastic,grafana']).components.includes('grafana'));
  assert.equal(parse([]).elastic, undefined);
  assert.equal(parse(['--elastic']).elastic, true);
  assert.equal(parse(['--no-elastic']).elastic, false);
  assert.equal(parse(['--timeout', '750ms']).timeoutMs, 750);
  assert.equal(parse([], { DOCTOR_TIMEOUT_MS: '5000' }).timeoutMs, 5000);
  assert.equal(parse(['--timeout', '2500']).timeoutMs, 2500, 'a bare number is milliseconds, for the flag as for DOCTOR_TIMEOUT_MS');
  assert.equal(parse(['--lookback', '1h30m']).lookbackSeconds, 5400);
  assert.equal(parse(['--lookback', '15m']).lookbackSeconds, 900);
  for (const bad of [
    ['--timeout', '0'],
    ['--timeout', '5m'],
    ['--lookback', '10s'],
    ['--only', 'backend', '--skip', 'loki'],
    ['--loki-selector', 'backend'],
    ['extra'],
  ]) {
    assert.throws(() => parseDoctorArgs(bad, {}, NO_FILE), UsageError, bad.join(' '));
  }
});

test('what the doctor expects loaded comes from the repo: alert rules, receivers, datasources', () => {
  assert.ok(expectedAlertNames().includes('HTTPErrorRate'));
  assert.ok(expectedAlertNames().length >= 10);
  assert.deepEqual(expectedReceivers(), ['critical', 'default', 'dora', 'warning']);
  assert.ok(expectedDatasourceUids().includes('loki'));
});
