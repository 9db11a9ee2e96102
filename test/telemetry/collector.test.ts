/**
 * The OpenTelemetry Collector of the stack (docker/otel-collector/), the pinned build running
 * the shipped files as Compose merges them:
 *   - service -> collector -> the real Jaeger and an APM server's OTLP intake (export/elastic.yaml),
 *   - tail sampling (sampling/tail.yaml): a known mix of traces in, Jaeger read back.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { OtlpReceiver } from '../../testkit/otlp-receiver';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';
import { startServerProcess, type ServerProcess } from '../../testkit/server-process';
import { jaegerPorts, searchTraces, startJaeger, tag, type Jaeger, type JaegerTrace } from '../helpers/jaeger';
import { sampleFrom } from '../helpers/metrics-text';
import { startCollector, type Collector } from '../helpers/otelcol';
import { requireTool } from '../helpers/tools';
import { eventually } from '../helpers/wait';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** A trace in Jaeger by id (GET /api/traces/<id>), or undefined while it is not there. */
async function jaegerTrace(jaeger: Jaeger, traceId: string): Promise<JaegerTrace | undefined> {
  const res = await fetch(`${jaeger.queryUrl}/api/traces/${traceId}`);
  if (res.status === 404) return undefined;
  assert.equal(res.status, 200, `GET /api/traces/${traceId}`);
  return ((await res.json()) as { data: JaegerTrace[] }).data[0];
}

describe('The collector between the service and its backends', () => {
  const otelcol = requireTool('otelcol');
  const jaegerBin = requireTool('jaeger');
  let database: TestDatabase;
  let jaeger: Jaeger;
  let apm: OtlpReceiver;
  let collector: Collector;
  let server: ServerProcess;

  before(async () => {
    if (!otelcol || !jaegerBin) return;
    database = await createTestDatabase('collector');
    jaeger = await startJaeger(jaegerBin, await jaegerPorts(), 'http://127.0.0.1:9');
    apm = await new OtlpReceiver().start();
    collector = await startCollector(otelcol, {
      exportTo: 'elastic',
      sampling: 'all',
      env: { JAEGER_OTLP_ENDPOINT: jaeger.otlpGrpcUrl.replace('http://', ''), ELASTIC_APM_SERVER_URL: apm.url },
    });
    server = await startServerProcess({
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: `collector-${process.pid}:`,
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttpUrl,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      // Set as Compose sets it for the Elastic agent: the OpenTelemetry path must not use it.
      ELASTIC_APM_SERVER_URL: `${apm.url}/direct`,
    });
  });
  after(async () => {
    await server?.stop();
    await collector?.stop();
    await Promise.all([jaeger?.stop(), apm?.stop()]);
    await database?.drop();
  });

  test(
    'When the service handles a request, then the collector delivers the same trace to Jaeger and the APM server',
    { skip: !otelcol || !jaegerBin },
    async () => {
      const traceId = hex(16);
      const res = await fetch(`${server.url}/api/products/3`, { headers: { traceparent: `00-${traceId}-${hex(8)}-01` } });
      assert.equal(res.status, 200);
      const inJaeger = await eventually(`trace ${traceId} in Jaeger`, async () => {
        const trace = await jaegerTrace(jaeger, traceId);
        return trace?.spans.some((s) => tag(s, 'http.route') === '/api/products/:id') ? trace : undefined;
      });
      const names = inJaeger.spans.map((s) => s.operationName);
      assert.ok(names.includes('GET /api/products/:id'), names.join(', '));
      assert.ok(
        inJaeger.spans.some((s) => tag(s, 'db.system.name') === 'redis'),
        `a Redis span: ${names.join(', ')}`,
      );
      const atApm = await eventually(`trace ${traceId} at the APM intake`, () => {
        const spans = apm.trace(traceId);
        return spans.length === inJaeger.spans.length ? spans : undefined;
      });
      assert.deepEqual(atApm.map((s) => s.spanId).sort(), inJaeger.spans.map((s) => s.spanID).sort());
      // Everything the APM server got came from the collector: the service exports to one place.
      assert.ok(apm.requests.length > 0);
      assert.ok(
        apm.requests.every((r) => r.path === '/v1/traces'),
        apm.requests.map((r) => r.path).join(', '),
      );
    },
  );

  test('When spans pass through, then the collector counts them in its own metrics, which Prometheus scrapes', { skip: !otelcol || !jaegerBin }, async () => {
    const res = await fetch(`${server.url}/api/products/4`);
    assert.equal(res.status, 200);
    await eventually('spans accepted and sent, by both exporters', async () => {
      const text = await (await fetch(collector.metricsUrl)).text();
      const accepted = sampleFrom(text, 'otelcol_receiver_accepted_spans', { receiver: 'otlp' });
      const jaegerSent = sampleFrom(text, 'otelcol_exporter_sent_spans', { exporter: 'otlp_grpc/jaeger' });
      const apmSent = sampleFrom(text, 'otelcol_exporter_sent_spans', { exporter: 'otlp_http/apm' });
      return accepted !== undefined && accepted > 0 && jaegerSent === accepted && apmSent === accepted ? true : undefined;
    });
  });
});

describe('Tail sampling in the collector (OTELCOL_SAMPLING=tail)', () => {
  const otelcol = requireTool('otelcol');
  const jaegerBin = requireTool('jaeger');
  let jaeger: Jaeger;
  let collector: Collector;
  const SHARE = 25;

  before(async () => {
    if (!otelcol || !jaegerBin) return;
    jaeger = await startJaeger(jaegerBin, await jaegerPorts(), 'http://127.0.0.1:9');
    collector = await startCollector(otelcol, {
      exportTo: 'jaeger',
      sampling: 'tail',
      env: {
        JAEGER_OTLP_ENDPOINT: jaeger.otlpGrpcUrl.replace('http://', ''),
        TAIL_SAMPLING_DECISION_WAIT: '1s',
        TAIL_SAMPLING_LATENCY_MS: '500',
        TAIL_SAMPLING_PERCENT: String(SHARE),
      },
    });
  });
  after(async () => {
    await collector?.stop();
    await jaeger?.stop();
  });

  test(
    'When a known mix arrives, then every error trace and every slow one is kept, and about the configured share of the rest',
    { skip: !otelcol || !jaegerBin },
    async () => {
      const mix = { error: 30, slow: 30, rest: 400 };
      const ids = { error: [] as string[], slow: [] as string[], rest: [] as string[] };
      const now = BigInt(Date.now()) * 1_000_000n;
      const spans = [];
      for (const kind of ['error', 'slow', 'rest'] as const) {
        for (let i = 0; i < mix[kind]; i++) {
          const traceId = hex(16);
          ids[kind].push(traceId);
          const durationMs = kind === 'slow' ? 800n : 12n;
          spans.push({
            traceId,
            spanId: hex(8),
            name: `GET /mix/${kind}`,
            kind: 2,
            startTimeUnixNano: String(now),
            endTimeUnixNano: String(now + durationMs * 1_000_000n),
            status: kind === 'error' ? { code: 2, message: 'boom' } : { code: 0 },
          });
        }
      }
      const body = {
        resourceSpans: [
          { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'tail-sampling-mix' } }] }, scopeSpans: [{ scope: { name: 'mix' }, spans }] },
        ],
      };
      const res = await fetch(`${collector.otlpHttpUrl}/v1/traces`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200, await res.text());

      const present = async (traceIds: string[]) => (await Promise.all(traceIds.map((id) => jaegerTrace(jaeger, id)))).filter(Boolean).length;
      await eventually(
        'every error and slow trace in Jaeger',
        async () => ((await present([...ids.error, ...ids.slow])) === mix.error + mix.slow ? true : undefined),
        {
          timeoutMs: 30_000,
          intervalMs: 500,
        },
      );
      // The rest was decided in the same pass; wait until its count stops growing.
      let kept = -1;
      await eventually(
        'the sampled share of the rest, settled',
        async () => {
          const now = await present(ids.rest);
          const settled = now === kept;
          kept = now;
          return settled ? true : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 1_000 },
      );
      // Binomial(400, 0.25): mean 100, standard deviation 8.7; four of them either side.
      const expected = (mix.rest * SHARE) / 100;
      assert.ok(Math.abs(kept - expected) <= 35, `kept ${kept} of ${mix.rest} plain traces, expected about ${expected}`);
      const found = await searchTraces(jaeger.queryUrl, { service: 'tail-sampling-mix', lookback: '1h', limit: '1000' });
      assert.equal(found.length, mix.error + mix.slow + kept, 'nothing else reached Jaeger');
    },
  );
});
