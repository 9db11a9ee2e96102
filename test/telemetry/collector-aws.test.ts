/**
 * The collector's AWS path (OTELCOL_EXPORT=aws: docker/otel-collector/export/aws.yaml), the
 * pinned build running the shipped files as Compose merges them, with no AWS account: each AWS
 * exporter's endpoint is a loopback stand-in (test/helpers/aws-receivers.ts) that answers as
 * the service does and decodes what arrived. The service exports its traces to the collector,
 * whose Prometheus receiver scrapes its /metrics every second, so every assertion below is about
 * what the collector sent for requests this test made:
 *   - X-Ray segment documents carry the trace id (X-Ray's form of it) and the route,
 *   - CloudWatch Logs EMF events carry the RED metrics by route, method and status code,
 *   - remote write carries the series, SigV4-signed for Amazon Managed Service for Prometheus,
 * and nothing else left the machine.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test, type TestContext } from 'node:test';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';
import { freePort, startServerProcess, type ServerProcess } from '../../testkit/server-process';
import {
  CloudWatchLogsReceiver,
  expectedSignature,
  GrpcSink,
  RemoteWriteReceiver,
  Tripwire,
  XrayReceiver,
  type AwsRequest,
  type EmfEvent,
  type Series,
} from '../helpers/aws-receivers';
import { startCollector, type Collector } from '../helpers/otelcol';
import { requireTool } from '../helpers/tools';
import { eventually } from '../helpers/wait';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

const REGION = 'eu-west-1';
const ACCESS_KEY_ID = 'AKIACLOUDMARTTEST000';
const SECRET_ACCESS_KEY = 'cloudmart-test-secret-not-an-aws-key';
const WORKSPACE_PATH = '/workspaces/ws-cloudmart-test/api/v1/remote_write';
const LOG_STREAM = 'collector-aws-test';
const ROUTE = '/api/products/:id';
/** The RED series of GET /api/products/:id answered 200: the labels /metrics gives them. */
const RED_LABELS = { route: ROUTE, method: 'GET', status_code: '200' };

const matches = (fields: Record<string, unknown>, labels: Record<string, string>) => Object.entries(labels).every(([k, v]) => fields[k] === v);

/** The newest sample of a remote-written series with these labels, or undefined. */
function latest(series: Series[], labels: Record<string, string>): number | undefined {
  let newest: { value: number; timestamp: number } | undefined;
  for (const s of series.filter((x) => matches(x.labels, labels))) {
    for (const sample of s.samples) if (!newest || sample.timestamp >= newest.timestamp) newest = sample;
  }
  return newest?.value;
}

describe('The collector on the AWS path: X-Ray, CloudWatch EMF and remote write, received locally', { timeout: 120_000 }, () => {
  const otelcol = requireTool('otelcol');
  const xray = new XrayReceiver();
  const logs = new CloudWatchLogsReceiver();
  const amp = new RemoteWriteReceiver();
  const tripwire = new Tripwire();
  const jaeger = new GrpcSink();
  let database: TestDatabase | undefined;
  let collector: Collector | undefined;
  let server: ServerProcess | undefined;
  let backendTarget = '';
  /** GET /api/products/3 answered 200 so far: the count the metrics must show. */
  let served = 0;

  async function getProduct(traceparent?: string): Promise<void> {
    assert.ok(server);
    const res = await fetch(`${server.url}/api/products/3`, traceparent ? { headers: { traceparent } } : {});
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    served += 1;
  }

  before(async () => {
    if (!otelcol) return;
    database = await createTestDatabase('collector_aws');
    await Promise.all([xray.start(), logs.start(), amp.start(), tripwire.start(), jaeger.start()]);
    // The service's port is picked first: the collector's scrape target names it.
    const backendPort = await freePort();
    backendTarget = `127.0.0.1:${backendPort}`;
    collector = await startCollector(otelcol, {
      exportTo: 'aws',
      sampling: 'all',
      env: {
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
        AWS_XRAY_ENDPOINT: xray.url,
        AWS_CLOUDWATCH_LOGS_ENDPOINT: logs.url,
        AMP_REMOTE_WRITE_ENDPOINT: `${amp.url}${WORKSPACE_PATH}`,
        JAEGER_OTLP_ENDPOINT: jaeger.endpoint,
        HOSTNAME: LOG_STREAM,
        // Nothing may leave the machine: no instance metadata (169.254.169.254), and any
        // request for a non-loopback host goes through the proxy, which is the tripwire.
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_EC2_METADATA_SERVICE_ENDPOINT: tripwire.url,
        HTTP_PROXY: tripwire.url,
        HTTPS_PROXY: tripwire.url,
      },
      // The shipped job scrapes `backend:3000` found by DNS; here the service on loopback, every second.
      extraConfig: [
        'receivers:',
        '  prometheus:',
        '    config:',
        '      scrape_configs:',
        '        - job_name: backend',
        '          scrape_interval: 1s',
        `          static_configs: [{ targets: ['${backendTarget}'] }]`,
        '',
      ].join('\n'),
    });
    server = await startServerProcess({
      PORT: String(backendPort),
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: `collector-aws-${process.pid}:`,
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttpUrl,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
  });
  after(async () => {
    await server?.stop();
    await collector?.stop();
    await Promise.all([xray.stop(), logs.stop(), amp.stop(), tripwire.stop(), jaeger.stop()]);
    await database?.drop();
  });

  /** The collector's last lines, for a failure message. */
  const collectorLog = () => (collector?.process.output.slice(-15) ?? []).join('\n');

  test(
    'When a product is read, then X-Ray gets the trace as segment documents: X-Ray trace id, the route in the annotations',
    { skip: !otelcol },
    async (t: TestContext) => {
      // A W3C trace id as any OpenTelemetry SDK makes it (random, no X-Ray timestamp prefix).
      const traceId = hex(16);
      const parent = hex(8);
      await getProduct(`00-${traceId}-${parent}-01`);
      const xrayTraceId = `1-${traceId.slice(0, 8)}-${traceId.slice(8)}`;

      const segment = await eventually(`the server span's segment of ${xrayTraceId} at X-Ray\n${collectorLog()}`, () =>
        xray.segments.find((s) => s.trace_id === xrayTraceId && s.type !== 'subsegment'),
      );
      t.diagnostic(`X-Ray segment: ${JSON.stringify({ ...segment, metadata: undefined, aws: undefined })}`);
      assert.match(segment.trace_id, /^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
      assert.equal(segment.parent_id, parent, 'the incoming traceparent continued');
      assert.match(segment.id, /^[0-9a-f]{16}$/);
      // The server span becomes the service's segment, named by service.name; the route is in
      // the annotations (indexed_attributes), X-Ray's searchable fields. The build keeps the dot
      // in the key (feature gate exporter.xray.allowDot, on by default).
      assert.equal(segment.name, 'cloudmart-backend');
      assert.deepEqual(segment.annotations, { 'http.route': ROUTE, 'http.response.status_code': 200 });
      assert.equal(segment.http?.request?.method, 'GET');
      assert.equal(segment.http?.request?.url, `${server?.url}/api/products/3`);
      assert.equal(segment.http?.response?.status, 200);
      assert.equal(segment.fault, false);

      // Its children (the query, the cache calls) are subsegments of that segment, in the same trace.
      const children = await eventually('the query subsegment', () => {
        const docs = xray.segments.filter((s) => s.trace_id === xrayTraceId && s.type === 'subsegment');
        return docs.some((s) => s.name === 'SELECT products') ? docs : undefined;
      });
      for (const child of children) {
        assert.equal(child.parent_id, segment.id, `${child.name} hangs under the server segment`);
        assert.equal(child.namespace, 'remote', child.name);
      }
      assert.ok(xray.requests.every((r) => r.method === 'POST' && r.path === '/TraceSegments'));
    },
  );

  test(
    'When products are read, then CloudWatch Logs gets EMF events with the RED metrics by route, method and status code',
    { skip: !otelcol },
    async (t: TestContext) => {
      const isRequests = (e: EmfEvent) => matches(e, RED_LABELS) && typeof e.http_requests_total === 'number';
      await getProduct();
      const readAt = Date.now();
      // awsemf turns the cumulative counter into deltas, so it needs one scrape after the read
      // as its base: an event of the series scraped after it.
      await eventually(
        `an EMF event of http_requests_total${JSON.stringify(RED_LABELS)} scraped after the read\n${collectorLog()}`,
        () => (logs.emfEvents.some((e) => isRequests(e) && e._aws.Timestamp > readAt) ? true : undefined),
        { timeoutMs: 20_000 },
      );
      const from = logs.emfEvents.length;
      const READS = 3;
      for (let i = 0; i < READS; i++) await getProduct();
      // The events after the base add up to exactly the reads made since.
      const counted = await eventually(
        `${READS} requests counted in EMF events`,
        () => {
          const sum = logs.emfEvents
            .slice(from)
            .filter(isRequests)
            .reduce((acc, e) => acc + (e.http_requests_total as number), 0);
          assert.ok(sum <= READS, `${sum} requests counted, ${READS} made`);
          return sum === READS ? logs.emfEvents.slice(from).filter(isRequests) : undefined;
        },
        { timeoutMs: 20_000 },
      );
      const example = counted.find((e) => (e.http_requests_total as number) > 0);
      t.diagnostic(`EMF event: ${JSON.stringify(example)}`);

      const duration = [...logs.emfEvents].reverse().find((e) => matches(e, RED_LABELS) && 'http_request_duration_seconds' in e);
      assert.ok(duration, 'an EMF event of http_request_duration_seconds for the route');
      t.diagnostic(`EMF event: ${JSON.stringify(duration)}`);
      const stats = duration.http_request_duration_seconds as { Count: number; Sum: number };
      assert.ok(stats.Count >= 1 && stats.Sum > 0, JSON.stringify(stats));

      // Each is a CloudWatch metric in namespace CloudMart, in the one dimension set declared.
      for (const [event, name] of [
        [example, 'http_requests_total'],
        [duration, 'http_request_duration_seconds'],
      ] as const) {
        assert.ok(event);
        const directives = event._aws.CloudWatchMetrics;
        assert.equal(directives.length, 1, JSON.stringify(directives));
        assert.equal(directives[0]?.Namespace, 'CloudMart');
        assert.deepEqual(
          directives[0]?.Dimensions.map((d) => [...d].sort()),
          [['method', 'route', 'status_code']],
        );
        assert.deepEqual(
          directives[0]?.Metrics.map((m) => m.Name),
          [name],
        );
      }
      // Only the RED metrics become CloudWatch metrics; the rest stay log fields.
      const names = new Set(logs.emfEvents.flatMap((e) => e._aws.CloudWatchMetrics.flatMap((d) => d.Metrics.map((m) => m.Name))));
      assert.deepEqual([...names].sort(), ['http_request_duration_seconds', 'http_requests_total']);
      // Nor does anything else reach CloudWatch Logs: filter/red drops the other series before awsemf.
      const others = logs.puts.flatMap((p) => p.messages).filter((e) => !('http_requests_total' in e) && !('http_request_duration_seconds' in e));
      assert.deepEqual(
        others.map((e) => Object.keys(e).filter((k) => k !== '_aws')),
        [],
      );

      assert.ok(logs.puts.length > 0);
      for (const put of logs.puts) {
        assert.equal(put.logGroupName, '/cloudmart/metrics');
        assert.equal(put.logStreamName, LOG_STREAM);
      }
      for (const r of logs.requests.filter((x) => x.headers['x-amz-target'] === 'Logs_20140328.PutLogEvents')) {
        assert.equal(r.headers['x-amzn-logs-format'], 'json/emf');
      }
    },
  );

  test(
    'When products are read, then remote write carries their series to the workspace, snappy-compressed protobuf',
    { skip: !otelcol },
    async (t: TestContext) => {
      await getProduct();
      const labels = { ...RED_LABELS, job: 'backend', instance: backendTarget };
      // The newest sample of each series is what /metrics said at the last scrape: every read so far.
      await eventually(
        `http_requests_total${JSON.stringify(labels)} = ${served} in remote write\n${collectorLog()}`,
        () => (latest(amp.series, { __name__: 'http_requests_total', ...labels }) === served ? true : undefined),
        { timeoutMs: 20_000 },
      );
      const example = [...amp.series].reverse().find((s) => matches(s.labels, { __name__: 'http_requests_total', ...labels }));
      t.diagnostic(`remote-write series: ${JSON.stringify(example)}`);
      assert.equal(latest(amp.series, { __name__: 'http_request_duration_seconds_count', ...labels }), served);
      assert.equal(latest(amp.series, { __name__: 'http_request_duration_seconds_bucket', le: '+Inf', ...labels }), served);
      assert.ok((latest(amp.series, { __name__: 'http_request_duration_seconds_sum', ...labels }) ?? 0) > 0);

      assert.ok(amp.requests.length > 0);
      for (const r of amp.requests) {
        assert.equal(r.method, 'POST');
        assert.equal(r.path, WORKSPACE_PATH);
        assert.equal(r.headers['content-encoding'], 'snappy');
        assert.equal(r.headers['content-type'], 'application/x-protobuf');
        assert.equal(r.headers['x-prometheus-remote-write-version'], '0.1.0');
      }
    },
  );

  test(
    'When the collector calls AWS, then every request is SigV4-signed with the configured key for its service and region, and nothing else left the machine',
    { skip: !otelcol },
    async () => {
      // After the tests above every API has been called; this read makes sure of it when run alone.
      await getProduct();
      await eventually('a call to each AWS API', () => (xray.requests.length > 0 && logs.requests.length > 0 && amp.requests.length > 0 ? true : undefined), {
        timeoutMs: 20_000,
      });
      const calls: [string, AwsRequest[]][] = [
        ['xray', xray.requests],
        ['logs', logs.requests],
        ['aps', amp.requests],
      ];
      for (const [service, requests] of calls) {
        assert.ok(requests.length > 0, `${service} was called`);
        for (const r of requests) {
          const auth = r.sigv4;
          assert.ok(auth, `${service} ${r.path}: Authorization ${r.headers.authorization}`);
          assert.equal(auth.accessKeyId, ACCESS_KEY_ID);
          assert.equal(auth.region, REGION);
          assert.equal(auth.service, service);
          assert.equal(auth.date, (r.headers['x-amz-date'] ?? '').slice(0, 8));
          assert.ok(auth.signedHeaders.includes('host') && auth.signedHeaders.includes('x-amz-date'), auth.signedHeaders.join(';'));
          assert.equal(auth.signature, expectedSignature(r, SECRET_ACCESS_KEY), `${service} ${r.path}: the signature is the one the secret key gives`);
        }
      }
      assert.deepEqual(tripwire.hits, [], 'no request for the internet or the instance metadata service');
    },
  );
});
