import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import protobuf from 'protobufjs';
import { uncompress } from 'snappyjs';
import { LoopbackReceiver } from '../../testkit/loopback-receiver';

/**
 * Loopback stand-ins for the AWS APIs the collector's AWS path calls (docker/otel-collector/
 * export/aws.yaml), for a test that cannot reach AWS: each answers as the service does and
 * decodes what arrived, so the test asserts on what the collector really sent.
 *   - X-Ray PutTraceSegments (awsxray),
 *   - CloudWatch Logs PutLogEvents with EMF messages (awsemf),
 *   - Prometheus remote write, as Amazon Managed Service for Prometheus takes it (prometheusremotewrite).
 * Every request keeps its raw body and headers, and its SigV4 signature is checked against
 * the secret key the collector was given.
 */

/** The parts of `Authorization: AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, ...`. */
export interface SigV4 {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

export interface AwsRequest {
  method: string;
  path: string;
  /** Lower-cased names; repeated headers joined with ','. */
  headers: Record<string, string>;
  /** The body as sent (still compressed when it was). */
  raw: Buffer;
  /** The body with any gzip Content-Encoding undone (not snappy: that is remote write's payload format). */
  body: Buffer;
  sigv4: SigV4 | null;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

export function parseSigV4(authorization: string | undefined): SigV4 | null {
  const m = AUTHORIZATION.exec(authorization ?? '');
  if (!m) return null;
  const [, accessKeyId = '', date = '', region = '', service = '', signed = '', signature = ''] = m;
  return { accessKeyId, date, region, service, signedHeaders: signed.split(';'), signature };
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/**
 * The signature AWS computes for this request with this secret key (Signature Version 4:
 * canonical request, string to sign, derived key), to compare with the one the request carries.
 * The paths and queries the collector sends here need no escaping.
 */
export function expectedSignature(req: AwsRequest, secretAccessKey: string): string {
  const auth = req.sigv4;
  if (!auth) throw new Error(`${req.method} ${req.path} is not SigV4-signed`);
  const [pathname = '/', query = ''] = req.path.split('?');
  const canonicalQuery = query
    .split('&')
    .filter(Boolean)
    .map((p) => p.split('='))
    .sort(([a = ''], [b = '']) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k = '', v = '']) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = auth.signedHeaders.map((h) => `${h}:${(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payloadHash = req.headers['x-amz-content-sha256'] ?? sha256(req.raw);
  const canonicalRequest = [req.method, pathname, canonicalQuery, canonicalHeaders, auth.signedHeaders.join(';'), payloadHash].join('\n');
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', req.headers['x-amz-date'] ?? '', scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, auth.date), auth.region), auth.service), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

interface Reply {
  status: number;
  contentType?: string;
  body?: string;
}

/** A loopback receiver that records every request, raw bytes and headers included, and answers through reply(). */
abstract class AwsEndpoint extends LoopbackReceiver {
  readonly requests: AwsRequest[] = [];

  protected handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, raw: Buffer): void {
    const headers: Record<string, string> = {};
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const name = (req.rawHeaders[i] ?? '').toLowerCase();
      const value = req.rawHeaders[i + 1] ?? '';
      headers[name] = name in headers ? `${headers[name]},${value}` : value;
    }
    const request: AwsRequest = { method: req.method ?? '', path: req.url ?? '', headers, raw, body, sigv4: parseSigV4(headers.authorization) };
    this.requests.push(request);
    let reply: Reply;
    try {
      reply = this.reply(request);
    } catch (err) {
      reply = { status: 400, contentType: 'application/json', body: JSON.stringify({ message: String(err) }) };
    }
    res.writeHead(reply.status, reply.contentType ? { 'Content-Type': reply.contentType } : {});
    res.end(reply.body);
  }

  protected abstract reply(req: AwsRequest): Reply;
}

/** An X-Ray segment document, as the exporter wrote it (the fields the tests read). */
export interface XraySegment {
  trace_id: string;
  id: string;
  parent_id?: string;
  name: string;
  type?: string;
  namespace?: string;
  start_time: number;
  end_time?: number;
  fault?: boolean;
  error?: boolean;
  annotations?: Record<string, string | number | boolean>;
  http?: { request?: { method?: string; url?: string }; response?: { status?: number } };
  sql?: Record<string, string>;
  subsegments?: XraySegment[];
}

/** X-Ray's PutTraceSegments: POST /TraceSegments, {"TraceSegmentDocuments": ["<segment JSON>", ...]}. */
export class XrayReceiver extends AwsEndpoint {
  readonly segments: XraySegment[] = [];

  protected reply(req: AwsRequest): Reply {
    if (req.method !== 'POST' || req.path !== '/TraceSegments') return { status: 404, contentType: 'application/json', body: '{"message":"not X-Ray"}' };
    const { TraceSegmentDocuments } = JSON.parse(req.body.toString('utf8')) as { TraceSegmentDocuments: string[] };
    for (const doc of TraceSegmentDocuments) this.segments.push(JSON.parse(doc) as XraySegment);
    return { status: 200, contentType: 'application/json', body: JSON.stringify({ UnprocessedTraceSegments: [] }) };
  }
}

/** One EMF log event's message: the metric values and dimensions as fields, and the directive under _aws. */
export interface EmfEvent {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit?: string }[] }[];
  };
  [field: string]: unknown;
}

export interface LogEvents {
  logGroupName: string;
  logStreamName: string;
  messages: Record<string, unknown>[];
}

/**
 * CloudWatch Logs' JSON API: POST / with X-Amz-Target: Logs_20140328.<Action>. PutLogEvents'
 * messages are decoded as JSON (EMF); every other action (CreateLogGroup, CreateLogStream, ...)
 * succeeds with an empty result.
 */
export class CloudWatchLogsReceiver extends AwsEndpoint {
  readonly puts: LogEvents[] = [];

  /** The X-Amz-Target actions called, in order. */
  get actions(): string[] {
    return this.requests.map((r) => (r.headers['x-amz-target'] ?? '').replace(/^Logs_20140328\./, ''));
  }

  /** Every EMF event (a message with _aws.CloudWatchMetrics), in the order they arrived. */
  get emfEvents(): EmfEvent[] {
    return this.puts.flatMap((p) => p.messages).filter((m): m is EmfEvent => Array.isArray((m._aws as EmfEvent['_aws'] | undefined)?.CloudWatchMetrics));
  }

  protected reply(req: AwsRequest): Reply {
    const target = req.headers['x-amz-target'] ?? '';
    if (req.method !== 'POST' || req.path !== '/' || !target.startsWith('Logs_20140328.')) {
      return { status: 400, contentType: 'application/x-amz-json-1.1', body: '{"__type":"UnknownOperationException"}' };
    }
    const input = JSON.parse(req.body.toString('utf8') || '{}') as {
      logGroupName?: string;
      logStreamName?: string;
      logEvents?: { timestamp: number; message: string }[];
    };
    if (target === 'Logs_20140328.PutLogEvents') {
      this.puts.push({
        logGroupName: input.logGroupName ?? '',
        logStreamName: input.logStreamName ?? '',
        messages: (input.logEvents ?? []).map((e) => JSON.parse(e.message) as Record<string, unknown>),
      });
      return { status: 200, contentType: 'application/x-amz-json-1.1', body: JSON.stringify({ nextSequenceToken: String(this.puts.length) }) };
    }
    return { status: 200, contentType: 'application/x-amz-json-1.1', body: '{}' };
  }
}

/** The part of prometheus/prompb/remote.proto and types.proto (remote write 1.0) the tests read. */
const REMOTE_WRITE_PROTO = `
syntax = "proto3";
package prometheus;
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message MetricMetadata { int32 type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
message WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
`;
const WriteRequest = protobuf.parse(REMOTE_WRITE_PROTO).root.lookupType('prometheus.WriteRequest');

export interface Series {
  labels: Record<string, string>;
  samples: { value: number; timestamp: number }[];
}

/** Decodes one remote-write body: snappy (block format), then a prometheus.WriteRequest. */
export function decodeWriteRequest(raw: Buffer): Series[] {
  const message = WriteRequest.toObject(WriteRequest.decode(uncompress(raw)), { longs: Number, defaults: true }) as {
    timeseries: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: number }[] }[];
  };
  return message.timeseries.map((ts) => ({
    labels: Object.fromEntries(ts.labels.map((l) => [l.name, l.value])),
    samples: ts.samples.map((s) => ({ value: s.value, timestamp: s.timestamp })),
  }));
}

/** A remote-write endpoint (Amazon Managed Service for Prometheus's /workspaces/<id>/api/v1/remote_write). */
export class RemoteWriteReceiver extends AwsEndpoint {
  readonly series: Series[] = [];

  protected reply(req: AwsRequest): Reply {
    if (req.method !== 'POST') return { status: 405 };
    this.series.push(...decodeWriteRequest(req.raw));
    return { status: 204 };
  }
}

/**
 * Where nothing should arrive: the test points HTTP(S)_PROXY and the EC2 instance metadata
 * endpoint here, so a request bound for the internet or for 169.254.169.254 is recorded
 * (and refused) instead of leaving the machine.
 */
export class Tripwire extends AwsEndpoint {
  readonly connects: string[] = [];

  constructor() {
    super();
    this.server.on('connect', (req: http.IncomingMessage, socket: Duplex) => {
      this.connects.push(req.url ?? '');
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    });
  }

  /** Every request and CONNECT that arrived, as one line each. */
  get hits(): string[] {
    return [...this.requests.map((r) => `${r.method} ${r.headers.host ?? ''}${r.path}`), ...this.connects.map((c) => `CONNECT ${c}`)];
  }

  protected reply(): Reply {
    return { status: 403 };
  }
}

/**
 * A stand-in for Jaeger's OTLP/gRPC intake (the base config's otlp_grpc/jaeger exporter), for
 * a test of the other exporters: it answers every unary call with an empty message and
 * status OK, so that exporter neither retries nor holds up the collector's shutdown.
 */
export class GrpcSink {
  calls = 0;
  endpoint = '';
  private readonly server = http2.createServer();

  constructor() {
    this.server.on('stream', (stream: http2.ServerHttp2Stream) => {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        this.calls += 1;
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        // One length-prefixed message of zero bytes: an empty ExportTraceServiceResponse.
        stream.end(Buffer.alloc(5));
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
