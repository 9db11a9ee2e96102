/**
 * /metrics as src/telemetry/exposition.ts renders it, against what a scrape needs: the same
 * series in both formats, the trace id exemplar in OpenMetrics, and an OpenMetrics text that
 * Prometheus's own OpenMetrics parser reads whole.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { renderMetrics } from '../../src/telemetry/exposition';
import { createMetrics } from '../../src/telemetry/metrics';
import { requireTool, runTool } from '../helpers/tools';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

async function scrapes(): Promise<{ classic: string; openMetrics: string }> {
  const metrics = createMetrics();
  const labels = { method: 'GET', route: '/api/products/:id', status_code: '200' };
  metrics.httpRequests.inc(labels);
  // prom-client types exemplar labels as the metric's own label names; they are free-form.
  const exemplarLabels: Record<string, string> = { trace_id: TRACE_ID };
  metrics.httpDuration.observe({ labels, value: 0.012, exemplarLabels });
  metrics.ordersFailed.inc({ reason: 'validation_failed' });
  return { classic: await renderMetrics(metrics.registry, false), openMetrics: await renderMetrics(metrics.registry, true) };
}

const sampleLines = (text: string) => text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));

/** The service's own series (runtime ones can appear between two renders), as name and labels. */
function ownSeries(text: string): string[] {
  return sampleLines(text)
    .filter((line) => /^(http_|cloudmart_)/.test(line))
    .map((line) => /^[^\s{]+(\{[^}]*\})?/.exec(line)?.[0] ?? line)
    .sort();
}

test('When both formats are rendered, then they carry the same series, and OpenMetrics adds the exemplar and # EOF', async () => {
  const { classic, openMetrics } = await scrapes();
  assert.deepEqual(ownSeries(openMetrics), ownSeries(classic));
  assert.match(classic, /^# TYPE cloudmart_orders_failed_total counter$/m);
  assert.match(openMetrics, /^# TYPE cloudmart_orders_failed counter\ncloudmart_orders_failed_total\{reason="validation_failed"\} 1$/m);
  assert.match(
    openMetrics,
    new RegExp(`^http_request_duration_seconds_bucket\\{le="0.025",[^}]*\\} 1 # \\{trace_id="${TRACE_ID}"\\} 0.012 \\d+(\\.\\d+)?$`, 'm'),
  );
  assert.doesNotMatch(classic, /trace_id/);
  assert.ok(openMetrics.endsWith('\n# EOF\n'));
});

test("When Prometheus's OpenMetrics parser reads an OpenMetrics scrape, then it takes every series, exemplars included", async (tc) => {
  const promtool = requireTool('promtool', tc);
  if (!promtool) return;
  const { openMetrics } = await scrapes();
  // Backfilling is the promtool command that runs the OpenMetrics parser; it wants a timestamp on each sample.
  const timestamped = openMetrics
    .split('\n')
    .map((line) => (line === '' || line.startsWith('#') ? line : line.replace(/^(\S+ \S+)/, '$1 1700000000')))
    .join('\n');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cloudmart-openmetrics-'));
  try {
    writeFileSync(path.join(dir, 'scrape.om'), timestamped);
    const run = runTool(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', path.join(dir, 'scrape.om'), path.join(dir, 'tsdb')]);
    assert.equal(run.status, 0, run.output);
    // The summary row: ULID, min time, max time, duration, samples, chunks, series, size.
    const series = Number(run.stdout.trim().split('\n').at(-1)?.trim().split(/\s+/)[6]);
    assert.equal(series, sampleLines(openMetrics).length, run.output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
