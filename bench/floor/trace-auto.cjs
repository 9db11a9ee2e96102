'use strict';
/**
 * auto-instrumentations-node at its defaults, every instrumentation on (the issue's
 * "default OpenTelemetry auto-instrumentation" anchor). Loaded with --require before the app;
 * the SDK comes from where ./otel.cjs says.
 */
const { load, batchSpanProcessor } = require('./otel.cjs');
const { NodeSDK } = load('@opentelemetry/sdk-node');
const { getNodeAutoInstrumentations } = load('@opentelemetry/auto-instrumentations-node');
const { OTLPTraceExporter } = load('@opentelemetry/exporter-trace-otlp-proto');

process.env.OTEL_METRICS_EXPORTER = 'none';
process.env.OTEL_LOGS_EXPORTER = 'none';
const sdk = new NodeSDK({
  spanProcessors: [batchSpanProcessor(new OTLPTraceExporter(), {})],
  instrumentations: [getNodeAutoInstrumentations()],
});
sdk.start();
process.on('SIGTERM', () => void sdk.shutdown());
