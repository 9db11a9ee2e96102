import type { Logger } from './logger';
import type { ElasticAgentLike } from './agent-state';

type Env = Record<string, string | undefined>;

/**
 * The native Elastic APM agent, the alternative to OpenTelemetry (APM_AGENT=elastic).
 * It reads the standard ELASTIC_APM_* variables itself; these are only defaults.
 */
export function startElasticApm(env: Env, logger: Logger): ElasticAgentLike {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- must load here, after the mode is chosen
  const apm = require('elastic-apm-node') as typeof import('elastic-apm-node');
  apm.start({
    serviceName: env.ELASTIC_APM_SERVICE_NAME ?? env.OTEL_SERVICE_NAME ?? 'cloudmart-backend',
    serviceVersion: env.ELASTIC_APM_SERVICE_VERSION ?? env.SERVICE_VERSION,
    environment: env.ELASTIC_APM_ENVIRONMENT ?? env.DEPLOYMENT_ENVIRONMENT ?? env.NODE_ENV ?? 'development',
    serverUrl: env.ELASTIC_APM_SERVER_URL ?? 'http://localhost:8200',
    // Never probe cloud metadata endpoints: this lab runs on laptops and loopback-only CI.
    cloudProvider: env.ELASTIC_APM_CLOUD_PROVIDER ?? 'none',
    centralConfig: env.ELASTIC_APM_CENTRAL_CONFIG === 'true',
    transactionIgnoreUrls: ['/metrics', '/health', '/health/*'],
    // Same noise policy as the OpenTelemetry mode.
    disableInstrumentations: ['fs', 'dns', 'net', 'pino'],
    logger: logger.child({ component: 'elastic-apm' }),
    logLevel: (env.ELASTIC_APM_LOG_LEVEL as 'warning' | undefined) ?? 'warning',
  });
  return apm as unknown as ElasticAgentLike;
}
