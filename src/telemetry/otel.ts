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
import { ATTR_DEPLOYMENT_ENVIRONMENT_NAME, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Config } from '../config';
import { ChildErrors } from './child-errors';
import { instrumentations } from './instrumentations';
import type { Logger } from './logger';
import { PgErrorAttributes } from './pg-spans';
import { REDACTED_QUERY_PARAMS } from './redact-url';
import { spanExportFromEnv } from './span-export';
import { traceServerRequests } from '../tuning/server-span';

export type TelemetryConfig = Pick<Config, 'service' | 'untrackedPaths' | 'tuning'>;

/**
 * The OpenTelemetry NodeSDK with auto-instrumentations-node, configured by the standard
 * OTEL_* variables. Traces go over OTLP to one place, OTEL_EXPORTER_OTLP_ENDPOINT: in the
 * stack, the OpenTelemetry Collector, which routes and samples them (docker/otel-collector/).
 */
export function startOpenTelemetry(config: TelemetryConfig, env: Record<string, string | undefined>, logger: Logger): NodeSDK {
  // Traces only, unless asked otherwise: the SDK's `otlp` default would also record OTel
  // HTTP, pg and Redis histograms (a second copy of what prom-client serves at /metrics).
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';

  // src/tuning/ (CLOUDMART_TUNING): the same server span, made without the http
  // instrumentation, unless OTel metrics are asked for: its request histogram needs it.
  const tunedServerSpans = config.tuning && process.env.OTEL_METRICS_EXPORTER === 'none';

  const { name, version, environment } = config.service;
  const sdk = new NodeSDK({
    // The service's identity from its config, merged onto the SDK's default resource
    // (telemetry.sdk.*); the detectors below add to it, the env ones last so that
    // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME win. No cloud or container probes:
    // this runs on laptops and in loopback-only CI.
    resource: defaultResource().merge(
      resourceFromAttributes({ [ATTR_SERVICE_NAME]: name, [ATTR_SERVICE_VERSION]: version, [ATTR_DEPLOYMENT_ENVIRONMENT_NAME]: environment }),
    ),
    resourceDetectors: [serviceInstanceIdDetector, processDetector, hostDetector, resourceAttributesEnvDetector, serviceNameEnvDetector],
    // PgErrorAttributes completes failed query spans while they end, before export;
    // ChildErrors lets the error handler skip an exception a child span already recorded.
    spanProcessors: [new PgErrorAttributes(), new ChildErrors(), spanExportFromEnv(env, logger)],
    instrumentations: [instrumentations(config.untrackedPaths, !tunedServerSpans)],
  });
  sdk.start();
  if (tunedServerSpans) traceServerRequests(config.untrackedPaths, REDACTED_QUERY_PARAMS);
  return sdk;
}
