import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UNTRACKED_PATHS } from './http/untracked-paths';

// Its home is src/http/untracked-paths.ts; re-exported for src/telemetry/otel.ts, which imports it from here.

// src/ and dist/ both sit one level below package.json.
const packageVersion = (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

/**
 * One typed, validated config object, read from the environment (12-factor).
 * A bad value stops the process with a message naming the variable, so a typo in
 * a compose file fails loudly at start instead of misbehaving under load.
 */

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const nonEmpty = z.string().trim().min(1);

/** pino's levels, which LOG_LEVEL takes; the logger checks against the same list. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/*
 * Every variable the service reads, with its default, except the tracer's, which are left
 * to the telemetry bootstrap (src/telemetry/register.ts and the module it starts) because
 * they only mean something to the tracer APM_AGENT picks, and the OpenTelemetry SDK and the
 * Elastic agent read most of them themselves. The bootstrap imports this module for the
 * service's identity and log level, which it can because this module loads no instrumented
 * module (only node:fs,
 * node:path, zod and src/http/untracked-paths.ts, which imports nothing). What the bootstrap reads on its own:
 *   register.ts  APM_AGENT, OTEL_SDK_DISABLED (which tracer starts);
 *   elastic.ts   ELASTIC_LEAN, and defaults for ELASTIC_APM_SERVER_URL, ELASTIC_APM_SERVICE_VERSION,
 *                ELASTIC_APM_ENVIRONMENT, ELASTIC_APM_CLOUD_PROVIDER, ELASTIC_APM_CENTRAL_CONFIG,
 *                ELASTIC_APM_LOG_LEVEL (the agent reads every ELASTIC_APM_* variable itself too);
 *   otel.ts      sets OTEL_METRICS_EXPORTER and OTEL_LOGS_EXPORTER to none when unset;
 *   span-export.ts  OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL (which
 *                exporter), OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (for
 *                its log line; the exporter reads them itself) and the batch processor's
 *                OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_SCHEDULE_DELAY,
 *                OTEL_BSP_EXPORT_TIMEOUT, which NodeSDK reads only for processors it builds.
 * The SDK reads every other OTEL_* variable itself (docs/telemetry.md). Two reads are not
 * settings of the service: src/tuning/malloc.ts checks whether glibc's GLIBC_TUNABLES already
 * sets what it would, and `npm run dora:deploy` (src/scripts/dora-deploy.ts), a client of the
 * service, reads CLOUDMART_URL and WEBHOOK_TOKEN. Unset and empty both mean "use the default".
 */
const envSchema = z.object({
  PORT: port.default(3000),
  HOST: nonEmpty.default('0.0.0.0'),

  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DB_HOST: nonEmpty.optional(),
  DB_PORT: port.default(5432),
  DB_USER: nonEmpty.optional(),
  DB_PASSWORD: z.string().optional(),
  DB_NAME: nonEmpty.optional(),
  DB_POOL_MAX: positiveInt.max(100).default(10),
  DB_CONNECT_TIMEOUT_MS: positiveInt.default(2000),
  DB_STATEMENT_TIMEOUT_MS: positiveInt.default(5000),
  PGLITE_DATA_DIR: nonEmpty.optional(),
  // Performance switch (docs/benchmark.md): false runs PGlite with its own, larger defaults.
  EMBEDDED_LOW_MEMORY: bool.default(true),
  MIGRATE_ON_START: bool.default(true),

  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  REDIS_HOST: nonEmpty.optional(),
  REDIS_PORT: port.default(6379),
  REDIS_COMMAND_TIMEOUT_MS: positiveInt.default(200),
  REDIS_KEY_PREFIX: z.string().max(64).default('cloudmart:'),
  CACHE_TTL_SECONDS: positiveInt.max(3600).default(10),
  MEMORY_CACHE_MAX_ENTRIES: positiveInt.default(1000),
  // Performance switch (docs/benchmark.md): false parses every hit and serialises it again.
  CACHE_SERVE_STORED: bool.default(true),

  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  LOG_FILE: nonEmpty.optional(),
  METRICS_ENABLED: bool.default(true),
  // The measured optimisations in src/tuning/; false runs the textbook path.
  CLOUDMART_TUNING: bool.default(true),

  SERVICE_NAME: nonEmpty.optional(),
  OTEL_SERVICE_NAME: nonEmpty.optional(),
  ELASTIC_APM_SERVICE_NAME: nonEmpty.optional(),
  OTEL_RESOURCE_ATTRIBUTES: z.string().optional(),
  SERVICE_VERSION: nonEmpty.default(packageVersion),
  GIT_COMMIT_SHA: z
    .string()
    .regex(/^[0-9a-f]{7,40}$/i, 'expected a git commit sha (7-40 hex digits)')
    .optional(),
  GIT_COMMIT_TIME: z.iso.datetime({ offset: true }).optional(),
  DEPLOYMENT_ENVIRONMENT: nonEmpty.optional(),
  NODE_ENV: nonEmpty.optional(),

  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10000),
  REQUEST_TIMEOUT_MS: positiveInt.default(15000),

  CHAOS_ENABLED: bool.default(false),
  CHAOS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),

  DORA_INCIDENT_SEVERITIES: nonEmpty.default('critical'),
  DORA_RECORD_DEPLOYMENT: bool.default(true),
  // Used as given (not trimmed): it is the HMAC key GitHub signs deliveries with.
  GITHUB_WEBHOOK_SECRET: z.string().min(1).optional(),
  WEBHOOK_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
});

export type DatabaseConfig = { kind: 'postgres'; connectionString: string; poolMax: number } | { kind: 'embedded'; dataDir?: string; lowMemory: boolean };

export type CacheConfig = { kind: 'redis'; url: string; commandTimeoutMs: number; keyPrefix: string } | { kind: 'memory'; maxEntries: number };

export interface Config {
  port: number;
  host: string;
  database: DatabaseConfig;
  dbConnectTimeoutMs: number;
  dbStatementTimeoutMs: number;
  migrateOnStart: boolean;
  cache: CacheConfig;
  cacheTtlSeconds: number;
  /** Send a cached product or page as the JSON text stored, without parsing it. */
  cacheServeStored: boolean;
  logLevel: (typeof LOG_LEVELS)[number];
  logFile?: string;
  metricsEnabled: boolean;
  /** Whether the measured optimisations in src/tuning/ run; false is the textbook path. */
  tuning: boolean;
  /** Infrastructure, not traffic: no request metrics, log lines or server spans. */
  untrackedPaths: readonly string[];
  /** The one identity logs, spans, metrics and DORA records carry. */
  service: {
    name: string;
    version: string;
    commitSha?: string;
    commitTime?: string;
    environment: string;
  };
  /** NODE_ENV as given: `production` turns on the start's warnings about open endpoints. */
  nodeEnv?: string;
  shutdownTimeoutMs: number;
  requestTimeoutMs: number;
  chaos: { enabled: boolean; token?: string };
  /** Bearer token for the webhook endpoints (DORA deployments, Alertmanager receivers). */
  webhookToken?: string;
  dora: { incidentSeverities: string[]; recordDeployment: boolean; githubWebhookSecret?: string };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function withoutEmpty(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
}

/** One key of OTEL_RESOURCE_ATTRIBUTES (`k=v,k2=v2`, values percent-encoded). */
function resourceAttribute(attributes: string | undefined, key: string): string | undefined {
  for (const pair of attributes?.split(',') ?? []) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === key) {
      const value = pair.slice(at + 1).trim();
      try {
        return decodeURIComponent(value) || undefined;
      } catch {
        return value || undefined;
      }
    }
  }
  return undefined;
}

function databaseFrom(e: z.infer<typeof envSchema>): DatabaseConfig {
  if (e.DATABASE_URL) return { kind: 'postgres', connectionString: e.DATABASE_URL, poolMax: e.DB_POOL_MAX };
  if (e.DB_HOST) {
    const url = new URL('postgres://localhost');
    url.hostname = e.DB_HOST;
    url.port = String(e.DB_PORT);
    url.username = encodeURIComponent(e.DB_USER ?? 'postgres');
    if (e.DB_PASSWORD) url.password = encodeURIComponent(e.DB_PASSWORD);
    url.pathname = `/${encodeURIComponent(e.DB_NAME ?? 'cloudmart')}`;
    return { kind: 'postgres', connectionString: url.toString(), poolMax: e.DB_POOL_MAX };
  }
  return { kind: 'embedded', dataDir: e.PGLITE_DATA_DIR, lowMemory: e.EMBEDDED_LOW_MEMORY };
}

function cacheFrom(e: z.infer<typeof envSchema>): CacheConfig {
  const url = e.REDIS_URL ?? (e.REDIS_HOST ? `redis://${e.REDIS_HOST}:${e.REDIS_PORT}` : undefined);
  return url
    ? { kind: 'redis', url, commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS, keyPrefix: e.REDIS_KEY_PREFIX }
    : { kind: 'memory', maxEntries: e.MEMORY_CACHE_MAX_ENTRIES };
}

export function loadConfig(env: Env = process.env): Config {
  const parsed = envSchema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.CHAOS_ENABLED && !e.CHAOS_TOKEN) {
    throw new ConfigError('Invalid configuration:\n  CHAOS_TOKEN: required when CHAOS_ENABLED=true');
  }
  return {
    port: e.PORT,
    host: e.HOST,
    database: databaseFrom(e),
    dbConnectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
    dbStatementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    migrateOnStart: e.MIGRATE_ON_START,
    cache: cacheFrom(e),
    cacheTtlSeconds: e.CACHE_TTL_SECONDS,
    cacheServeStored: e.CACHE_SERVE_STORED,
    logLevel: e.LOG_LEVEL,
    logFile: e.LOG_FILE,
    metricsEnabled: e.METRICS_ENABLED,
    tuning: e.CLOUDMART_TUNING,
    untrackedPaths: UNTRACKED_PATHS,
    service: {
      // OpenTelemetry's precedence first, then the Elastic agent's variable, then the course's.
      name:
        e.OTEL_SERVICE_NAME ??
        resourceAttribute(e.OTEL_RESOURCE_ATTRIBUTES, 'service.name') ??
        e.ELASTIC_APM_SERVICE_NAME ??
        e.SERVICE_NAME ??
        'cloudmart-backend',
      version: e.SERVICE_VERSION,
      commitSha: e.GIT_COMMIT_SHA?.toLowerCase(),
      commitTime: e.GIT_COMMIT_TIME,
      environment: e.DEPLOYMENT_ENVIRONMENT ?? e.NODE_ENV ?? 'development',
    },
    nodeEnv: e.NODE_ENV,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    chaos: { enabled: e.CHAOS_ENABLED, token: e.CHAOS_TOKEN },
    webhookToken: e.WEBHOOK_TOKEN,
    dora: {
      incidentSeverities: e.DORA_INCIDENT_SEVERITIES.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      recordDeployment: e.DORA_RECORD_DEPLOYMENT,
      githubWebhookSecret: e.GITHUB_WEBHOOK_SECRET,
    },
  };
}
