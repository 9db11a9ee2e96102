/**
 * Why src/telemetry/exposition.ts renders /metrics instead of prom-client. This test pins the
 * upstream behaviour that makes the renderer necessary, so it fails once the pinned prom-client
 * no longer renames counters in place: then serve registry.metrics() and delete the renderer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Registry, type OpenMetricsContentType } from 'prom-client';

test("When prom-client renders OpenMetrics, then it strips _total from the counter's own name, so a classic-format scrape after it loses the suffix", async () => {
  // /metrics serves both formats from one set of metrics: here, one counter on a registry of each format.
  const openMetrics = new Registry<OpenMetricsContentType>();
  openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const classic = new Registry();
  const requests = new Counter({ name: 'demo_requests_total', help: 'Demo requests', registers: [openMetrics, classic] });
  requests.inc();

  assert.match(await classic.metrics(), /^# TYPE demo_requests_total counter\ndemo_requests_total 1$/m, 'before any OpenMetrics scrape');
  // prom-client's OpenMetrics itself is right: the family without _total, its sample with it.
  assert.match(await openMetrics.metrics(), /^# TYPE demo_requests counter\ndemo_requests_total 1$/m);
  assert.match(
    await classic.metrics(),
    /^# TYPE demo_requests counter\ndemo_requests 1$/m,
    'prom-client no longer renames counters in place: serve registry.metrics() for both formats and delete src/telemetry/exposition.ts',
  );
});
