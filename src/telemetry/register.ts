/**
 * Loaded with `node --require ./dist/telemetry/register.js` before any application
 * module, so the tracer patches pg and ioredis (and, for the Elastic agent, express)
 * before they are first required. A register that loads late silently produces no spans.
 *
 * APM_AGENT picks the tracer: `otel` (default) or `elastic`; `none` starts neither.
 * Never both: their context managers and propagators clash.
 */
// First: on too old a Node.js, stop with one line before any dependency loads.
import '../require-node';
import { ConfigError, loadConfig, type Config } from '../config';
import { elasticSpans } from './elastic-spans';
import { useRequestSpans } from './tracer';
import { startElasticApm } from './elastic';
import { onTelemetryShutdown } from './lifecycle';
import { createLogger } from './logger';

/** Modules the tracer must patch; already loaded means they were required before this file. */
const instrumented = /[\\/]node_modules[\\/](express|pg|ioredis)[\\/]/;

function start(config: Config, env: Record<string, string | undefined>): void {
  const logger = createLogger({ level: config.logLevel, service: config.service.name });
  const early = Object.keys(require.cache).filter((p) => instrumented.test(p));
  if (early.length) {
    logger.warn({ modules: early.slice(0, 5) }, 'telemetry loaded after instrumented modules; they will not be traced (load it with --require first)');
  }
  const mode = (env.APM_AGENT ?? 'otel').toLowerCase();

  if (mode === 'elastic') {
    const agent = startElasticApm(config, env, logger);
    useRequestSpans(elasticSpans(agent));
    onTelemetryShutdown(() => agent.flush());
    logger.info({ tracer: 'elastic-apm-node', serverUrl: env.ELASTIC_APM_SERVER_URL ?? 'http://localhost:8200' }, 'tracing with the Elastic APM agent');
    return;
  }
  if (mode === 'none' || env.OTEL_SDK_DISABLED === 'true') {
    logger.info({ tracer: 'none' }, 'tracing disabled');
    return;
  }
  if (mode !== 'otel') {
    logger.fatal(`APM_AGENT: unsupported value "${mode}" (use otel, elastic or none)`);
    process.exit(1);
  }
  // Loaded only when tracing with OpenTelemetry: the SDK and its instrumentations weigh
  // tens of MB of RSS that a process with tracing off should not carry.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- must load here, after the mode is chosen
  const { startOpenTelemetry } = require('./otel') as typeof import('./otel');
  const sdk = startOpenTelemetry(config, env, logger);
  onTelemetryShutdown(() => sdk.shutdown());
  logger.info(
    {
      tracer: 'opentelemetry',
      endpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318',
      protocol: env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
    },
    'tracing with OpenTelemetry',
  );
}

// The same validated config the service reads: one identity for logs, spans and metrics.
// An invalid one is left for server.ts to report, with every problem named.
let config: Config | undefined;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
}
if (config) start(config, process.env);
