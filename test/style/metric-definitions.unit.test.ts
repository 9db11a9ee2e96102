/**
 * One way to define a metric: a factory in the metrics.ts of the module that records it creates
 * it on the one registry (docs/architecture.md, "Where things go"). Only those files import
 * prom-client, so a metric made anywhere else, such as inside a router, is noticed here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { srcDir, tsFiles } from '../helpers/source-files';

const repoRoot = path.join(__dirname, '..', '..');

test('Only metrics.ts modules import prom-client, so every metric is defined in one', () => {
  const importers = tsFiles(srcDir)
    .filter((file) => /['"]prom-client['"]/.test(readFileSync(file, 'utf8')))
    .map((file) => path.relative(repoRoot, file).split(path.sep).join('/'));
  assert.ok(importers.includes('src/telemetry/metrics.ts'), `the scan finds the core metrics: ${importers.join(', ')}`);
  assert.deepEqual(
    importers.filter((file) => path.basename(file) !== 'metrics.ts'),
    [],
    'define the metric in the metrics.ts of the module that records it',
  );
});
