/**
 * The collector's shipped configs (docker/otel-collector/), checked by the collector itself:
 * `otelcol validate` on every combination Compose can start, and the image tag, the
 * Dockerfile and the builder manifest on the one release tools/versions.env pins.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { collectorConfigDir, collectorConfigs } from '../helpers/otelcol';
import { composeServices, repoRoot } from '../helpers/stack';
import { pinnedVersions, requireTool, runTool } from '../helpers/tools';

const EXPORTS = ['jaeger', 'elastic', 'aws'];
const SAMPLINGS = ['all', 'tail'];

/** What the AWS exporters need to build their clients; no request leaves the machine. */
const AWS_ENV = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIDVALIDATEONLY',
  AWS_SECRET_ACCESS_KEY: 'validate-only',
  AWS_EC2_METADATA_DISABLED: 'true',
  AMP_REMOTE_WRITE_ENDPOINT: 'http://127.0.0.1:9/api/v1/remote_write',
};

test('every export and sampling file is one Compose can choose, and nothing else is shipped', () => {
  assert.deepEqual(fs.readdirSync(path.join(collectorConfigDir, 'export')).sort(), EXPORTS.map((e) => `${e}.yaml`).sort());
  assert.deepEqual(fs.readdirSync(path.join(collectorConfigDir, 'sampling')).sort(), SAMPLINGS.map((s) => `${s}.yaml`).sort());
});

for (const exportTo of EXPORTS) {
  for (const sampling of SAMPLINGS) {
    test(`otelcol validate: config.yaml + export/${exportTo}.yaml + sampling/${sampling}.yaml`, (t) => {
      const otelcol = requireTool('otelcol', t);
      if (!otelcol) return;
      const validate = runTool(otelcol, ['validate', ...collectorConfigs(exportTo, sampling).map((f) => `--config=${f}`)], { env: AWS_ENV });
      assert.equal(validate.status, 0, validate.output);
    });
  }
}

test('the aws export refuses to start without the Managed Prometheus endpoint', (t) => {
  const otelcol = requireTool('otelcol', t);
  if (!otelcol) return;
  const res = runTool(otelcol, ['validate', ...collectorConfigs('aws', 'all').map((f) => `--config=${f}`)], {
    env: { ...AWS_ENV, AMP_REMOTE_WRITE_ENDPOINT: '' },
  });
  assert.notEqual(res.status, 0);
  assert.match(res.output, /prometheusremotewrite/);
});

test('the image, its Dockerfile and the builder manifest name the release tools/versions.env pins', () => {
  const version = pinnedVersions().OTELCOL_VERSION;
  assert.ok(version);
  const svc = composeServices().find((s) => s.name === 'otel-collector');
  assert.equal(svc?.svc.image, `cloudmart/otel-collector:${version}`);
  assert.match(
    fs.readFileSync(path.join(collectorConfigDir, 'Dockerfile'), 'utf8'),
    new RegExp(`^ARG OTELCOL_VERSION=${version.replaceAll('.', '\\.')}$`, 'm'),
  );
  const manifest = fs.readFileSync(path.join(repoRoot, 'tools/go/otelcol/manifest.yaml'), 'utf8');
  const versions = new Set([...manifest.matchAll(/^\s+- gomod: \S+ v(\d+\.\d+\.\d+)$/gm)].map((m) => m[1] ?? ''));
  assert.ok(versions.has(version), `manifest modules at ${[...versions].join(', ')}`);
  for (const v of versions) assert.ok(v === version || v.startsWith('1.'), `a component at ${v}, not ${version}`);
  assert.equal(pinnedVersions().OTELCOL_BUILDER_MODULE, `go.opentelemetry.io/collector/cmd/builder@v${version}`);
  assert.match(
    fs.readFileSync(path.join(repoRoot, 'tools/go/otelcol/go.mod'), 'utf8'),
    new RegExp(`go.opentelemetry.io/collector/cmd/builder v${version.replaceAll('.', '\\.')}\\b`),
  );
});
