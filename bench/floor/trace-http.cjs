'use strict';
/**
 * The least tracing: the NodeSDK with only the http instrumentation (one server span per
 * request), sampled as OTEL_TRACES_SAMPLER says (always_on, or always_off for the unsampled
 * rows), batched (128) and exported as OTLP/protobuf, as CloudMart exports.
 * Loaded with --require before the app; the SDK comes from where ./otel.cjs says.
 */
const { load, batchSpanProcessor } = require('./otel.cjs');
const { NodeSDK } = load('@opentelemetry/sdk-node');
const { HttpInstrumentation } = load('@opentelemetry/instrumentation-http');
const { OTLPTraceExporter } = load('@opentelemetry/exporter-trace-otlp-proto');

process.env.OTEL_METRICS_EXPORTER = 'none';
process.env.OTEL_LOGS_EXPORTER = 'none';
const sdk = new NodeSDK({
  spanProcessors: [batchSpanProcessor(new OTLPTraceExporter(), { maxExportBatchSize: 128 })],
  instrumentations: [new HttpInstrumentation({ disableOutgoingRequestInstrumentation: true })],
});
sdk.start();
process.on('SIGTERM', () => void sdk.shutdown());
