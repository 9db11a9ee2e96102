import { BatchSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Logger } from './logger';
import { WatchedExporter } from './export-watch';

type Env = Record<string, string | undefined>;
type Protocol = 'http/protobuf' | 'http/json' | 'grpc';

/**
 * The span processor NodeSDK would build from the standard variables (OTEL_EXPORTER_OTLP_*,
 * OTEL_BSP_*) had it been given no processors; it builds none of its own once the service
 * adds its own (otel.ts), so they are read here, with two additions: the one-line
 * "span export failing" report, and a bound on exports in flight.
 */
export function spanExportFromEnv(env: Env, logger: Logger): SpanProcessor {
  const protocol = protocolFrom(env);
  const batch = batchSettings(env);
  const log = logger.child({ component: 'otel' });
  const exporter = new WatchedExporter(otlpExporter(protocol, exportConcurrency(batch)), endpoint(env, protocol), {
    failing: (target, error) => log.warn({ target, error }, 'span export failing; spans are dropped while the backend is unreachable (logged once)'),
    recovered: (target) => log.info({ target }, 'span export recovered'),
  });
  return new BatchSpanProcessor({ exporter, ...batch });
}

function protocolFrom(env: Env): Protocol {
  const p = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  if (p === 'http/protobuf' || p === 'http/json' || p === 'grpc') return p;
  throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL: unsupported value "${p}" (use http/protobuf, http/json or grpc)`);
}

/** Where the exporter sends, as it resolves it from the same variables: for the log line only. */
function endpoint(env: Env, protocol: Protocol): string {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? (protocol === 'grpc' ? 'http://localhost:4317' : 'http://localhost:4318');
  return protocol === 'grpc' ? base : `${base.replace(/\/$/, '')}/v1/traces`;
}

/**
 * The OTLP exporter for the protocol; it reads its endpoint, headers and timeout from the
 * OTEL_EXPORTER_OTLP_* variables itself. Required on demand: the gRPC exporter alone pulls
 * in @grpc/grpc-js, which an HTTP setup never uses.
 *
 * concurrencyLimit bounds the batches held by exports in flight. With the collector down,
 * each export retries holding its batch, and the batch processor lets a failed export's
 * cleanup clear the flag of the next one, so exports in flight would ratchet up to the
 * exporter's default of 30 batches (docs/benchmark.md, "A backend that is down").
 */
/* eslint-disable @typescript-eslint/no-require-imports -- loaded per protocol, see above */
function otlpExporter(protocol: Protocol, concurrencyLimit: number): SpanExporter {
  switch (protocol) {
    case 'http/json': {
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
      return new OTLPTraceExporter({ concurrencyLimit });
    }
    case 'grpc': {
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc') as typeof import('@opentelemetry/exporter-trace-otlp-grpc');
      return new OTLPTraceExporter({ concurrencyLimit });
    }
    default: {
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
      return new OTLPTraceExporter({ concurrencyLimit });
    }
  }
}
/* eslint-enable @typescript-eslint/no-require-imports */

interface BatchSettings {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
}

/**
 * OTEL_BSP_* with the specification's defaults but one: batches of 128 spans, not 512.
 * Serializing a batch blocks the event loop, a stall the requests queued behind it pay, and
 * a smaller batch makes it shorter (docs/benchmark.md, "Findings from the Node 20 measurements").
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

/** What a shutdown flush sends at once (the whole queue, one batch each), plus the one export of normal operation. */
function exportConcurrency({ maxQueueSize, maxExportBatchSize }: BatchSettings): number {
  return Math.ceil(maxQueueSize / maxExportBatchSize) + 1;
}
