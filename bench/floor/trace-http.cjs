'use strict';
/**
 * The least tracing: the NodeSDK with only the http instrumentation (one server span per
 * request), 100 % sampled, batched (128) and exported as OTLP/protobuf, as CloudMart exports.
 * Loaded with --require before the app.
 */
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');

process.env.OTEL_METRICS_EXPORTER = 'none';
process.env.OTEL_LOGS_EXPORTER = 'none';
const sdk = new NodeSDK({
  spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter(), maxExportBatchSize: 128 })],
  instrumentations: [new HttpInstrumentation({ disableOutgoingRequestInstrumentation: true })],
});
sdk.start();
process.on('SIGTERM', () => void sdk.shutdown());
