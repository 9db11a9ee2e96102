import { context, type Span } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import { ServerResponse, type IncomingMessage } from 'node:http';
import {
  defaultResource,
  hostDetector,
  processDetector,
  resourceAttributesEnvDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
  serviceNameEnvDetector,
} from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type BatchSpanProcessorOptions, type SpanExporter } from '@opentelemetry/sdk-trace';
import { ATTR_DEPLOYMENT_ENVIRONMENT_NAME, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { routeTemplate } from '../http/route-template';
import type { Logger } from './logger';
import { isUntrackedPath, type Config } from '../config';
import { WatchedExporter } from './export-watch';
import { ChildErrors } from './child-errors';
import { PgErrorAttributes, pgRequestHook } from './pg-spans';

type Env = Record<string, string | undefined>;
export type TelemetryConfig = Pick<Config, 'service' | 'untrackedPaths'>;
type Protocol = 'http/protobuf' | 'http/json' | 'grpc';

function protocolFrom(env: Env): Protocol {
  const p = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  if (p === 'http/protobuf' || p === 'http/json' || p === 'grpc') return p;
  throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL: unsupported value "${p}" (use http/protobuf, http/json or grpc)`);
}

/**
 * OTLP exporter for the protocol; with no url it reads the standard OTEL_EXPORTER_OTLP_* variables.
 * Required on demand: the gRPC exporter alone pulls in @grpc/grpc-js, which an HTTP setup never uses.
 *
 * concurrencyLimit bounds the batches held by exports in flight. With the backend down, each
 * export retries for up to OTEL_EXPORTER_OTLP_TIMEOUT holding its batch, and the batch span
 * processor (sdk-trace 3.1, like sdk-trace-base 2.12 before it) lets a failed export's cleanup
 * clear the flag of the next one, so in-flight exports ratchet up to the exporter's default
 * limit of 30 batches, and their spans stay live in memory (docs/benchmark.md, "A backend
 * that is down"). The limit here is what a shutdown flush needs (the whole queue, one batch
 * each) plus the one export of normal operation; anything beyond it fails at once and its
 * batch is dropped, which is the point of a bounded queue.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- loaded per protocol, see above */
function otlpExporter(protocol: Protocol, target: { url: string; headers: Record<string, string> } | undefined, concurrencyLimit: number): SpanExporter {
  switch (protocol) {
    case 'http/json': {
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
      return new OTLPTraceExporter({ ...target, concurrencyLimit });
    }
    case 'grpc': {
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc') as typeof import('@opentelemetry/exporter-trace-otlp-grpc');
      return new OTLPTraceExporter({ ...(target ? { url: target.url } : {}), concurrencyLimit });
    }
    default: {
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
      return new OTLPTraceExporter({ ...target, concurrencyLimit });
    }
  }
}
/* eslint-enable @typescript-eslint/no-require-imports */

function primaryEndpoint(env: Env, protocol: Protocol): string {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? (protocol === 'grpc' ? 'http://localhost:4317' : 'http://localhost:4318');
  return protocol === 'grpc' ? base : `${base.replace(/\/$/, '')}/v1/traces`;
}

/** The Elastic APM server's own OTLP intake, authenticated the way its native agent is. */
function elasticTarget(env: Env): { url: string; headers: Record<string, string> } | undefined {
  const server = env.ELASTIC_APM_SERVER_URL;
  if (!server) return undefined;
  const headers: Record<string, string> = {};
  if (env.ELASTIC_APM_API_KEY) headers.Authorization = `ApiKey ${env.ELASTIC_APM_API_KEY}`;
  else if (env.ELASTIC_APM_SECRET_TOKEN) headers.Authorization = `Bearer ${env.ELASTIC_APM_SECRET_TOKEN}`;
  return { url: `${server.replace(/\/$/, '')}/v1/traces`, headers };
}

/**
 * Hands the request's route template ("/api/products/:id", the same routeTemplate the
 * request metrics use) to the http instrumentation the way it expects a framework to:
 * in the RPC metadata of the request's context, the slot the Express instrumentation used
 * to fill. As the response closes, the instrumentation reads it from there and sets
 * http.route on the server span, names the span "GET /api/products/:id", and puts
 * http.route on its http.server.request.duration histogram (OTEL_METRICS_EXPORTER=otlp).
 * The instrumentation calls this hook before it adds its own 'close' listener, so this
 * listener runs first; it runs in the request's context because the instrumentation has
 * already bound the response to it.
 *
 * This replaces the Express instrumentation, which wrapped every middleware layer and ran
 * route bookkeeping in each, even with all its spans turned off, a cost every request paid
 * (docs/benchmark.md, "No Express instrumentation").
 */
function routeOnClose(_span: Span, response: IncomingMessage | ServerResponse): void {
  if (!(response instanceof ServerResponse)) return;
  response.on('close', () => {
    const route = routeTemplate(response.req);
    const metadata = getRPCMetadata(context.active());
    if (route !== undefined && metadata?.type === RPCType.HTTP) metadata.route = route;
  });
}

/**
 * Query parameters whose values server spans record as REDACTED in url.query: the http
 * instrumentation's own list (credentials in signed URLs), which an explicit list
 * replaces rather than extends, plus `q`, the product search, which is what users type.
 */
const REDACTED_QUERY_PARAMS = ['sig', 'Signature', 'AWSAccessKeyId', 'X-Goog-Signature', 'X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Security-Token', 'q'];

type BatchSettings = Required<Pick<BatchSpanProcessorOptions, 'maxQueueSize' | 'maxExportBatchSize' | 'scheduledDelayMillis' | 'exportTimeoutMillis'>>;

/**
 * The batch processor's settings from the standard OTEL_BSP_* variables, read here because
 * the SDK 3 BatchSpanProcessor reads no environment (NodeSDK only reads OTEL_BSP_* for the
 * processors it builds itself). One default differs from the SDK's: batches of 128 spans,
 * not 512. Serializing a batch blocks the event loop, a stall the requests queued behind it
 * pay, and a smaller batch makes that stall shorter (docs/benchmark.md, "Findings from the
 * Node 20 measurements").
 */
function batchSettings(env: Env): BatchSettings {
  const positive = (v: string | undefined, fallback: number) => (Number(v) > 0 ? Number(v) : fallback);
  const maxQueueSize = positive(env.OTEL_BSP_MAX_QUEUE_SIZE, 2048);
  return {
    maxQueueSize,
    maxExportBatchSize: Math.min(maxQueueSize, positive(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, 128)),
    scheduledDelayMillis: positive(env.OTEL_BSP_SCHEDULE_DELAY, 5000),
    exportTimeoutMillis: positive(env.OTEL_BSP_EXPORT_TIMEOUT, 30000),
  };
}

/** Batches a shutdown flush sends at once (queue / batch size), plus one. */
function exportConcurrency({ maxQueueSize, maxExportBatchSize }: BatchSettings): number {
  return Math.ceil(maxQueueSize / maxExportBatchSize) + 1;
}

export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * The OpenTelemetry NodeSDK with auto-instrumentations-node, configured by the
 * standard OTEL_* variables (service name and resource attributes, sampler, batch
 * processor, exporter endpoint/protocol/headers/timeout, propagators, OTEL_LOG_LEVEL).
 *
 * Two defaults differ from the SDK's, both overridable: OTEL_METRICS_EXPORTER and
 * OTEL_LOGS_EXPORTER are `none`. Left at the SDK's `otlp`, every request would also
 * record OTel HTTP, pg and Redis histograms (a second copy of what prom-client serves at
 * /metrics) and post them, with the logs, to a Jaeger that answers 404.
 */
export function startOpenTelemetry(config: TelemetryConfig, env: Env, logger: Logger): Tracing {
  const protocol = protocolFrom(env);
  const log = logger.child({ component: 'otel' });
  // NodeSDK reads these from process.env itself.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  const watch = {
    failing: (target: string, error: string) =>
      log.warn({ target, error }, 'span export failing; spans are dropped while the backend is unreachable (logged once)'),
    recovered: (target: string) => log.info({ target }, 'span export recovered'),
  };

  const batch = batchSettings(env);
  const limit = exportConcurrency(batch);
  const exporters: { target: string; exporter: SpanExporter }[] = [
    { target: primaryEndpoint(env, protocol), exporter: otlpExporter(protocol, undefined, limit) },
  ];
  const elastic = elasticTarget(env);
  // The APM server's OTLP intake speaks HTTP on its own port; gRPC would need a second listener.
  if (elastic) exporters.push({ target: elastic.url, exporter: otlpExporter(protocol === 'grpc' ? 'http/protobuf' : protocol, elastic, limit) });

  const { name, version, environment } = config.service;
  const sdk = new NodeSDK({
    // The service's identity from its config (OTEL_SERVICE_NAME included), merged onto the
    // SDK's default resource: a resource given here replaces that default, which is what
    // carries telemetry.sdk.name, telemetry.sdk.language and telemetry.sdk.version.
    resource: defaultResource().merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: name,
        [ATTR_SERVICE_VERSION]: version,
        [ATTR_DEPLOYMENT_ENVIRONMENT_NAME]: environment,
      }),
    ),
    // NodeSDK's default detectors in its order, without the OS one (its envDetector is the
    // two env detectors here). serviceInstanceIdDetector gives each process its own
    // service.instance.id, which tells replicas apart; the env detectors come last so that
    // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME win over what the others detect.
    // No cloud or container probes: this runs on laptops and in loopback-only CI.
    resourceDetectors: [serviceInstanceIdDetector, processDetector, hostDetector, resourceAttributesEnvDetector, serviceNameEnvDetector],
    // Batch processors have bounded queues (OTEL_BSP_MAX_QUEUE_SIZE, default 2048):
    // with a backend down, spans are dropped rather than held in memory.
    // PgErrorAttributes first: it completes failed query spans while they end, before export.
    // ChildErrors lets the error handler skip a second exception event for an error a
    // child span recorded (recordSpanError).
    spanProcessors: [
      new PgErrorAttributes(),
      new ChildErrors(),
      ...exporters.map(({ target, exporter }) => new BatchSpanProcessor({ exporter: new WatchedExporter(exporter, target, watch), ...batch })),
    ],
    instrumentations: [
      getNodeAutoInstrumentations({
        // Only what shows the request's path through the service: the server span,
        // Postgres and Redis. No fs, dns, net, Express middleware or router spans.
        '@opentelemetry/instrumentation-fs': { enabled: false },
        '@opentelemetry/instrumentation-dns': { enabled: false },
        '@opentelemetry/instrumentation-net': { enabled: false },
        '@opentelemetry/instrumentation-router': { enabled: false },
        '@opentelemetry/instrumentation-connect': { enabled: false },
        '@opentelemetry/instrumentation-pino': { enabled: false },
        '@opentelemetry/instrumentation-runtime-node': { enabled: false },
        '@opentelemetry/instrumentation-undici': { enabled: false },
        '@opentelemetry/instrumentation-http': {
          responseHook: routeOnClose,
          ignoreIncomingRequestHook: (req: IncomingMessage) => isUntrackedPath((req.url ?? '').split('?', 1)[0] ?? '', config.untrackedPaths),
          redactedQueryParamsServer: REDACTED_QUERY_PARAMS,
          // The only outgoing HTTP calls are the exporters' own posts to the collectors:
          // not traffic worth tracing, and not patching http.request at all is cheapest.
          disableOutgoingRequestInstrumentation: true,
        },
        // No Express spans: middleware, router and request-handler spans repeat the server
        // span (same route, about the same duration). routeOnClose gives it its route.
        '@opentelemetry/instrumentation-express': { enabled: false },
        // Query spans named by their db.query.summary (`SELECT products`), as the stable
        // database conventions ask, through the instrumentation's requestHook.
        '@opentelemetry/instrumentation-pg': { requireParentSpan: true, ignoreConnectSpans: true, requestHook: pgRequestHook },
        '@opentelemetry/instrumentation-ioredis': { requireParentSpan: true },
      }),
    ],
  });
  sdk.start();
  return sdk;
}
