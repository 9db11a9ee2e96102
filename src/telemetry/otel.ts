import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import { ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { OTLPTraceExporter as OTLPGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OTLPJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { IncomingMessage } from 'node:http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Logger } from './logger';
import { WatchedExporter } from './export-watch';

type Env = Record<string, string | undefined>;
type Protocol = 'http/protobuf' | 'http/json' | 'grpc';

function protocolFrom(env: Env): Protocol {
  const p = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  if (p === 'http/protobuf' || p === 'http/json' || p === 'grpc') return p;
  throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL: unsupported value "${p}" (use http/protobuf, http/json or grpc)`);
}

/** OTLP exporter for the protocol; with no url it reads the standard OTEL_EXPORTER_OTLP_* variables. */
function otlpExporter(protocol: Protocol, target?: { url: string; headers: Record<string, string> }): SpanExporter {
  switch (protocol) {
    case 'http/json':
      return new OTLPJsonExporter(target);
    case 'grpc':
      return new OTLPGrpcExporter(target ? { url: target.url } : undefined);
    default:
      return new OTLPProtoExporter(target);
  }
}

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

const ignoredPaths = /^\/(metrics|health)(\/|\?|$)/;

export function startOpenTelemetry(env: Env, logger: Logger): NodeSDK {
  const protocol = protocolFrom(env);
  const log = logger.child({ component: 'otel' });
  const watch = {
    failing: (target: string, error: string) =>
      log.warn({ target, error }, 'span export failing; spans are dropped while the backend is unreachable (logged once)'),
    recovered: (target: string) => log.info({ target }, 'span export recovered'),
  };

  const exporters: { target: string; exporter: SpanExporter }[] = [
    { target: primaryEndpoint(env, protocol), exporter: otlpExporter(protocol) },
  ];
  const elastic = elasticTarget(env);
  // The APM server's OTLP intake speaks HTTP on its own port; gRPC would need a second listener.
  if (elastic) exporters.push({ target: elastic.url, exporter: otlpExporter(protocol === 'grpc' ? 'http/protobuf' : protocol, elastic) });

  const sdk = new NodeSDK({
    // Resource detectors still read OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, which win over these defaults.
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME ?? 'cloudmart-backend',
      [ATTR_SERVICE_VERSION]: env.SERVICE_VERSION ?? 'dev',
      'deployment.environment.name': env.DEPLOYMENT_ENVIRONMENT ?? env.NODE_ENV ?? 'development',
      // The pre-1.27 key, which Jaeger and Elastic APM 8.x still display.
      'deployment.environment': env.DEPLOYMENT_ENVIRONMENT ?? env.NODE_ENV ?? 'development',
    }),
    // Batch processors have bounded queues (OTEL_BSP_MAX_QUEUE_SIZE, default 2048):
    // with a backend down, spans are dropped rather than held in memory.
    spanProcessors: exporters.map(({ target, exporter }) => new BatchSpanProcessor(new WatchedExporter(exporter, target, watch))),
    instrumentations: [
      getNodeAutoInstrumentations({
        // Only what shows the request's path through the service: the server span, the
        // route handler, Postgres and Redis. The rest is noise for this service.
        '@opentelemetry/instrumentation-fs': { enabled: false },
        '@opentelemetry/instrumentation-dns': { enabled: false },
        '@opentelemetry/instrumentation-net': { enabled: false },
        '@opentelemetry/instrumentation-router': { enabled: false },
        '@opentelemetry/instrumentation-connect': { enabled: false },
        '@opentelemetry/instrumentation-pino': { enabled: false },
        '@opentelemetry/instrumentation-runtime-node': { enabled: false },
        '@opentelemetry/instrumentation-undici': { enabled: false },
        '@opentelemetry/instrumentation-http': {
          ignoreIncomingRequestHook: (req: IncomingMessage) => ignoredPaths.test(req.url ?? ''),
          // The exporters' own calls to the collectors are not traffic worth tracing.
          ignoreOutgoingRequestHook: () => true,
        },
        '@opentelemetry/instrumentation-express': { ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER] },
        '@opentelemetry/instrumentation-pg': { requireParentSpan: true, ignoreConnectSpans: true },
        '@opentelemetry/instrumentation-ioredis': { requireParentSpan: true },
      }),
    ],
  });
  sdk.start();
  return sdk;
}
