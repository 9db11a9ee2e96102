import path from 'node:path';
import { startManaged, type ManagedProcess } from './monitoring';
import { freePort } from '../../testkit/server-process';
import { dockerDir } from './stack';

/**
 * The pinned Jaeger v2 running the shipped docker/jaeger/config.yaml. The test
 * overrides only what cannot be the same outside Compose, with `--set`: every
 * listen address (loopback, free ports), the Prometheus URL SPM reads, and the
 * spanmetrics flush interval (seconds instead of 15 s).
 */
export interface Jaeger {
  process: ManagedProcess;
  /** Query API and UI (16686 in Compose). */
  queryUrl: string;
  /** OTLP/HTTP base URL (4318). */
  otlpHttpUrl: string;
  /** OTLP/gRPC endpoint (4317). */
  otlpGrpcUrl: string;
  /** host:port of its own telemetry (8888) and of the spanmetrics exporter (8889), for Prometheus's jaeger job. */
  telemetryTarget: string;
  spanmetricsTarget: string;
  stop(): Promise<void>;
}

export interface JaegerPorts {
  otlpGrpc: number;
  otlpHttp: number;
  queryHttp: number;
  queryGrpc: number;
  health: number;
  telemetry: number;
  spanmetrics: number;
}

/** Picked before Prometheus starts, so its jaeger job can name them. */
export async function jaegerPorts(): Promise<JaegerPorts> {
  const ports: number[] = [];
  while (ports.length < 7) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const [otlpGrpc = 0, otlpHttp = 0, queryHttp = 0, queryGrpc = 0, health = 0, telemetry = 0, spanmetrics = 0] = ports;
  return { otlpGrpc, otlpHttp, queryHttp, queryGrpc, health, telemetry, spanmetrics };
}

export const jaegerConfigPath = path.join(dockerDir, 'jaeger', 'config.yaml');

/** The `--set` overrides: listen addresses, the Prometheus URL and the flush interval, nothing else. */
export function jaegerOverrides(ports: JaegerPorts, prometheusUrl: string, flushInterval = '1s'): string[] {
  const at = (port: number) => `127.0.0.1:${port}`;
  return [
    `receivers.otlp.protocols.grpc.endpoint=${at(ports.otlpGrpc)}`,
    `receivers.otlp.protocols.http.endpoint=${at(ports.otlpHttp)}`,
    `extensions.jaeger_query.http.endpoint=${at(ports.queryHttp)}`,
    `extensions.jaeger_query.grpc.endpoint=${at(ports.queryGrpc)}`,
    `extensions.healthcheckv2.http.endpoint=${at(ports.health)}`,
    `exporters.prometheus.endpoint=${at(ports.spanmetrics)}`,
    // A list is replaced whole by --set: the same single pull reader, on loopback.
    `service.telemetry.metrics.readers=[{pull: {exporter: {prometheus: {host: 127.0.0.1, port: ${ports.telemetry}}}}}]`,
    `extensions.jaeger_storage.metric_backends.prometheus_metrics.prometheus.endpoint=${prometheusUrl}`,
    `connectors.spanmetrics.metrics_flush_interval=${flushInterval}`,
  ];
}

export async function startJaeger(bin: string, ports: JaegerPorts, prometheusUrl: string): Promise<Jaeger> {
  const args = ['--config', jaegerConfigPath, ...jaegerOverrides(ports, prometheusUrl).map((s) => `--set=${s}`)];
  // Ready when the health check extension reports every component up (the Compose healthcheck's /status).
  const process = await startManaged(bin, args, ports.health, '/status');
  return {
    process,
    queryUrl: `http://127.0.0.1:${ports.queryHttp}`,
    otlpHttpUrl: `http://127.0.0.1:${ports.otlpHttp}`,
    otlpGrpcUrl: `http://127.0.0.1:${ports.otlpGrpc}`,
    telemetryTarget: `127.0.0.1:${ports.telemetry}`,
    spanmetricsTarget: `127.0.0.1:${ports.spanmetrics}`,
    stop: () => process.stop(),
  };
}

// ------------------------------------------------------------ query API (v1)

export interface JaegerTag {
  key: string;
  type: string;
  value: string | number | boolean;
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: Array<{ refType: string; traceID: string; spanID: string }>;
  tags: JaegerTag[];
  processID: string;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: JaegerTag[] }>;
}

export function tag(span: JaegerSpan, key: string): JaegerTag['value'] | undefined {
  return span.tags.find((t) => t.key === key)?.value;
}

export function parentOf(span: JaegerSpan): string | undefined {
  return span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
}

/** GET /api/traces?service=...: the search the UI runs. */
export async function searchTraces(queryUrl: string, params: Record<string, string>): Promise<JaegerTrace[]> {
  const res = await fetch(`${queryUrl}/api/traces?${new URLSearchParams(params).toString()}`);
  if (!res.ok) throw new Error(`/api/traces: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { data: JaegerTrace[] | null }).data ?? [];
}

// ------------------------------------------------------------ query API (v3, OTLP JSON)

export interface OtlpJsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number | string;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
  status?: { code?: number | string };
}

export interface OtlpJsonResourceSpans {
  resource?: { attributes?: Array<{ key: string; value: Record<string, unknown> }> };
  scopeSpans: Array<{ scope?: { name?: string }; spans: OtlpJsonSpan[] }>;
}

/** GET /api/v3/traces?query.service_name=...: OTLP JSON, one result chunk. */
export async function searchTracesV3(queryUrl: string, params: Record<string, string>): Promise<OtlpJsonResourceSpans[]> {
  const res = await fetch(`${queryUrl}/api/v3/traces?${new URLSearchParams(params).toString()}`);
  const text = await res.text();
  // No match is a 404 with an error body, not an empty list.
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`/api/v3/traces: ${res.status} ${text}`);
  return (JSON.parse(text) as { result?: { resourceSpans?: OtlpJsonResourceSpans[] } }).result?.resourceSpans ?? [];
}

export function v3Spans(resourceSpans: OtlpJsonResourceSpans[]): Array<OtlpJsonSpan & { service: string }> {
  return resourceSpans.flatMap((rs) => {
    const name = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue;
    const service = typeof name === 'string' ? name : '';
    return rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, service })));
  });
}

// ------------------------------------------------------------ SPM (Monitor tab)

export interface SpmMetricFamily {
  name: string;
  metrics: Array<{ labels: Array<{ name: string; value: string }>; metricPoints: Array<{ gaugeValue?: { doubleValue: number }; timestamp: string }> }>;
}

/** GET /api/metrics/{calls,latencies,errors}: what the Monitor tab plots. */
export async function spm(queryUrl: string, kind: 'calls' | 'latencies' | 'errors', service: string): Promise<SpmMetricFamily> {
  const params = new URLSearchParams({ service, endTs: String(Date.now()), lookback: '120000', step: '1000', ratePer: '60000', spanKind: 'server' });
  if (kind === 'latencies') params.set('quantile', '0.95');
  const res = await fetch(`${queryUrl}/api/metrics/${kind}?${params.toString()}`);
  const text = await res.text();
  if (!res.ok) throw new Error(`/api/metrics/${kind}: ${res.status} ${text}`);
  return JSON.parse(text) as SpmMetricFamily;
}
