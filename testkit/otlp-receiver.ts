import type http from 'node:http';
import protobuf from 'protobufjs';
import { LoopbackReceiver } from './loopback-receiver';

/**
 * A loopback OTLP/HTTP trace receiver that really decodes what arrives, in either
 * encoding the exporters speak: protobuf (application/x-protobuf) and JSON. It also
 * decodes OTLP/JSON metrics exports, for the test of OTEL_METRICS_EXPORTER=otlp.
 * The schema below is the subset of opentelemetry-proto the tests read, with the
 * upstream field numbers; unknown fields are skipped by the decoder.
 */
const OTLP_TRACE_PROTO = `
syntax = "proto3";
package otlp;
message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message InstrumentationScope { string name = 1; string version = 2; }
message Status { string message = 2; int32 code = 3; }
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; repeated Event events = 11; Status status = 15; fixed32 flags = 16;
}
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`;

const ExportTraceServiceRequest = protobuf.parse(OTLP_TRACE_PROTO, { keepCase: false }).root.lookupType('otlp.ExportTraceServiceRequest');

export type AttrValue = string | number | boolean | AttrValue[] | null;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, AttrValue>;
  statusCode: number;
  events: string[];
  /** The same events with their attributes (an exception event's exception.type, …). */
  eventDetails: { name: string; attributes: Record<string, AttrValue> }[];
  resource: Record<string, AttrValue>;
  scope: string;
  encoding: 'protobuf' | 'json';
}

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: JsonAnyValue[] };
}
interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue;
}

function anyValue(v: JsonAnyValue | undefined): AttrValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  return null;
}

function attrs(kvs: JsonKeyValue[] | undefined): Record<string, AttrValue> {
  return Object.fromEntries((kvs ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
}

/** The JSON encoding carries ids as hex; protobuf.js's toObject gives base64 for bytes. */
function hexId(v: unknown, encoding: 'protobuf' | 'json'): string {
  if (typeof v !== 'string' || v === '') return '';
  return encoding === 'json' ? v.toLowerCase() : Buffer.from(v, 'base64').toString('hex');
}

interface JsonExport {
  resourceSpans?: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: {
      scope?: { name?: string };
      spans?: {
        traceId?: string;
        spanId?: string;
        parentSpanId?: string;
        name?: string;
        kind?: number;
        attributes?: JsonKeyValue[];
        status?: { code?: number };
        events?: { name?: string; attributes?: JsonKeyValue[] }[];
      }[];
    }[];
  }[];
}

export function decodeTraces(body: Buffer, contentType: string): ReceivedSpan[] {
  const encoding = contentType.includes('json') ? 'json' : 'protobuf';
  const data: JsonExport =
    encoding === 'json'
      ? (JSON.parse(body.toString('utf8')) as JsonExport)
      : ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), { longs: Number, bytes: String });
  const spans: ReceivedSpan[] = [];
  for (const rs of data.resourceSpans ?? []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: hexId(s.traceId, encoding),
          spanId: hexId(s.spanId, encoding),
          parentSpanId: hexId(s.parentSpanId, encoding),
          name: s.name ?? '',
          kind: s.kind ?? 0,
          attributes: attrs(s.attributes),
          statusCode: s.status?.code ?? 0,
          events: (s.events ?? []).map((e) => e.name ?? ''),
          eventDetails: (s.events ?? []).map((e) => ({ name: e.name ?? '', attributes: attrs(e.attributes) })),
          resource,
          scope: ss.scope?.name ?? '',
          encoding,
        });
      }
    }
  }
  return spans;
}

/** One data point of an OTLP/JSON metrics export, flattened: the metric's name and the point's attributes. */
export interface ReceivedDataPoint {
  metric: string;
  attributes: Record<string, AttrValue>;
}

interface JsonMetricsExport {
  resourceMetrics?: {
    scopeMetrics?: {
      metrics?: { name: string; [kind: string]: unknown }[];
    }[];
  }[];
}

/** The data points of an OTLP/JSON ExportMetricsServiceRequest, whatever the metric's kind. */
export function decodeJsonMetrics(body: Buffer): ReceivedDataPoint[] {
  const points: ReceivedDataPoint[] = [];
  const data = JSON.parse(body.toString('utf8')) as JsonMetricsExport;
  for (const rm of data.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        for (const kind of ['sum', 'gauge', 'histogram', 'exponentialHistogram']) {
          const dataPoints = (m[kind] as { dataPoints?: { attributes?: JsonKeyValue[] }[] } | undefined)?.dataPoints ?? [];
          for (const dp of dataPoints) points.push({ metric: m.name, attributes: attrs(dp.attributes) });
        }
      }
    }
  }
  return points;
}

export class OtlpReceiver extends LoopbackReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Metric data points of OTLP/JSON metrics exports (OTEL_METRICS_EXPORTER=otlp with http/json). */
  readonly dataPoints: ReceivedDataPoint[] = [];
  /** Every request received; `spans` is how many the export carried (its batch size). */
  readonly requests: { path: string; contentType: string; authorization?: string; spans: number }[] = [];

  protected handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
    const contentType = req.headers['content-type'] ?? '';
    const received = { path: req.url ?? '', contentType, authorization: req.headers.authorization, spans: 0 };
    this.requests.push(received);
    if (req.method === 'POST' && req.url === '/v1/metrics' && contentType.includes('json')) {
      try {
        this.dataPoints.push(...decodeJsonMetrics(body));
      } catch (err) {
        res.writeHead(400).end(String(err));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.writeHead(404).end();
      return;
    }
    try {
      const spans = decodeTraces(body, contentType);
      received.spans = spans.length;
      this.spans.push(...spans);
    } catch (err) {
      res.writeHead(400).end(String(err));
      return;
    }
    // An empty ExportTraceServiceResponse is a valid answer in both encodings.
    if (contentType.includes('json')) res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    else res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
  }

  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }
}
