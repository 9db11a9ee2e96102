import type { Config } from '../config';
import type { Logger } from './logger';
import { redactRequestQuery } from './elastic-redact';
import type { ElasticAgentLike } from './elastic-spans';

type Env = Record<string, string | undefined>;

/**
 * Performance (docs/benchmark.md, "The Elastic agent's settings"): the agent's documented
 * options that take per-request work off every transaction without losing what the lab
 * shows (the transaction named by its route, its Postgres and Redis spans, errors, trace
 * ids in log lines). Start options, so any ELASTIC_APM_* variable still overrides each
 * one (the agent ranks its environment above them); ELASTIC_LEAN=false drops them all.
 */
export const LEAN_ELASTIC_OPTIONS = {
  // Request and response headers on every transaction, each one run past sanitizeFieldNames.
  captureHeaders: false,
  // Bodies are off by default too; stated so that no one turns it on thinking it free.
  captureBody: 'off',
  // Per transaction and span: self-time bookkeeping for the "time spent by span type" chart.
  breakdownMetrics: false,
  // No stack trace per span (an Error.captureStackTrace each); also the agent's default.
  spanStackTraceMinDuration: '-1ms',
  // Span compression checks every ended exit span against its sibling; no trace here
  // has compressible spans, so it only costs (and the spans received stay the same).
  spanCompressionEnabled: false,
} as const;

/** Not traced in either mode: noise beside the request's path through the service. */
const NOT_TRACED = ['fs', 'dns', 'net', 'pino'];

/**
 * Performance, part of ELASTIC_LEAN (docs/benchmark.md, "The Elastic agent's settings"): the
 * express instrumentation wraps every router layer to track mount paths and report errors,
 * and neither is needed here. Routes are declared with their full path, so the agent names
 * each transaction from req.route when it ends ("GET /api/products/:id"), and the error
 * handler captures 5xx errors itself (recordSpanError), as the OpenTelemetry mode records them.
 */
const NOT_TRACED_LEAN = [...NOT_TRACED, 'express'];

/**
 * The native Elastic APM agent, the alternative to OpenTelemetry (APM_AGENT=elastic).
 * It reads the standard ELASTIC_APM_* variables itself; these are only defaults.
 */
export function startElasticApm(config: Pick<Config, 'service' | 'untrackedPaths'>, env: Env, logger: Logger): ElasticAgentLike {
  // The agent lets ELASTIC_APM_* variables win over start() options; the config already
  // chose the one service name (ELASTIC_APM_SERVICE_NAME among its sources), so say it here too.
  process.env.ELASTIC_APM_SERVICE_NAME = config.service.name;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- must load here, after the mode is chosen
  const apm = require('elastic-apm-node') as typeof import('elastic-apm-node');
  const lean = env.ELASTIC_LEAN !== 'false';
  apm.start({
    ...(lean ? LEAN_ELASTIC_OPTIONS : {}),
    serviceName: config.service.name,
    serviceVersion: env.ELASTIC_APM_SERVICE_VERSION ?? config.service.version,
    environment: env.ELASTIC_APM_ENVIRONMENT ?? config.service.environment,
    serverUrl: env.ELASTIC_APM_SERVER_URL ?? 'http://localhost:8200',
    // Never probe cloud metadata endpoints: this lab runs on laptops and loopback-only CI.
    cloudProvider: env.ELASTIC_APM_CLOUD_PROVIDER ?? 'none',
    // No polling of the APM server for remote configuration unless asked for.
    centralConfig: env.ELASTIC_APM_CENTRAL_CONFIG === 'true',
    transactionIgnoreUrls: [...config.untrackedPaths],
    // Same noise policy as the OpenTelemetry mode, which has no Express spans either.
    disableInstrumentations: lean ? NOT_TRACED_LEAN : NOT_TRACED,
    logger: logger.child({ component: 'elastic-apm' }),
    logLevel: (env.ELASTIC_APM_LOG_LEVEL as 'warning' | undefined) ?? 'warning',
  });
  // What a user searched for stays out of the APM server, as it stays out of Jaeger.
  apm.addFilter(redactRequestQuery);
  return apm;
}
