import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, parseEnv } from 'node:util';
import { parseDuration } from '../lib/duration';
import { REPO_ROOT } from '../lib/stack-config';

export const COMPONENTS = ['backend', 'prometheus', 'alertmanager', 'jaeger', 'loki', 'grafana', 'elastic'] as const;
export type Component = (typeof COMPONENTS)[number];

/**
 * Where each part of the lab stack answers on the host. The ports are the ones
 * compose/*.yaml publishes (test/doctor/options.test.ts keeps them equal); each
 * URL can be overridden by its flag or its environment variable.
 */
export const ENDPOINTS = {
  backend: { flag: 'backend-url', env: 'CLOUDMART_URL', composeService: 'lb', port: 3000 },
  prometheus: { flag: 'prometheus-url', env: 'PROMETHEUS_URL', composeService: 'prometheus', port: 9090 },
  alertmanager: { flag: 'alertmanager-url', env: 'ALERTMANAGER_URL', composeService: 'alertmanager', port: 9093 },
  jaeger: { flag: 'jaeger-url', env: 'JAEGER_URL', composeService: 'jaeger', port: 16686 },
  loki: { flag: 'loki-url', env: 'LOKI_URL', composeService: 'loki', port: 3100 },
  grafana: { flag: 'grafana-url', env: 'GRAFANA_URL', composeService: 'grafana', port: 3001 },
  kibana: { flag: 'kibana-url', env: 'KIBANA_URL', composeService: 'kibana', port: 5601 },
  apmServer: { flag: 'apm-server-url', env: 'APM_SERVER_URL', composeService: 'apm-server', port: 8200 },
  elasticsearch: { flag: 'elasticsearch-url', env: 'ELASTICSEARCH_URL', composeService: 'elasticsearch', port: 9200 },
} as const;
export type EndpointName = keyof typeof ENDPOINTS;

/** The other environment variables the doctor reads. */
export const DOCTOR_ENV = ['GRAFANA_ADMIN_USER', 'GRAFANA_ADMIN_PASSWORD', 'DOCTOR_TIMEOUT_MS'] as const;

export interface DoctorOptions {
  urls: Record<EndpointName, string>;
  grafanaUser: string;
  grafanaPassword: string;
  /** Where the password came from, for the fix line of a 401. */
  grafanaPasswordSource: string;
  service: string;
  lokiSelector: string;
  lookbackSeconds: number;
  timeoutMs: number;
  /** true: the Elastic profile must run; false: do not check it; undefined: check it when it answers. */
  elastic: boolean | undefined;
  components: Component[];
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `Usage: npm run doctor -- [options]

Checks a running CloudMart lab stack (docker compose -f compose/compose.yaml ...) and
prints a checklist with a fix for every miss. Exit code 0: nothing missed; 1: something
missed; 2: bad options.

Options (each URL also from the environment variable named after it):
  --backend-url URL        CLOUDMART_URL       default http://localhost:3000
  --prometheus-url URL     PROMETHEUS_URL      default http://localhost:9090
  --alertmanager-url URL   ALERTMANAGER_URL    default http://localhost:9093
  --jaeger-url URL         JAEGER_URL          default http://localhost:16686
  --loki-url URL           LOKI_URL            default http://localhost:3100
  --grafana-url URL        GRAFANA_URL         default http://localhost:3001
  --kibana-url URL         KIBANA_URL          default http://localhost:5601
  --apm-server-url URL     APM_SERVER_URL      default http://localhost:8200
  --elasticsearch-url URL  ELASTICSEARCH_URL   default http://localhost:9200
  --grafana-user NAME      GRAFANA_ADMIN_USER  default admin
  --grafana-password PW    GRAFANA_ADMIN_PASSWORD, else compose/.env's, else admin
  --service NAME           the traced service to look for in Jaeger (default cloudmart-backend)
  --loki-selector SEL      the backend's log stream in Loki (default {service="backend"})
  --lookback T             how far back to look for traces and logs: 15m, 1h (default 1h)
  --timeout T              bound on each request: 3s, 500ms (default 3s; DOCTOR_TIMEOUT_MS)
  --elastic                require the Elastic profile (Kibana, APM server, Elasticsearch)
  --no-elastic             do not check it (default: checked only when one of them answers)
  --only LIST              check only these, comma-separated: ${COMPONENTS.join(',')}
  --skip LIST              check all but these
  -h, --help               this text`;

function componentList(flag: string, value: string | undefined): Component[] | undefined {
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!(COMPONENTS as readonly string[]).includes(n)) throw new UsageError(`${flag}: unknown component "${n}" (use ${COMPONENTS.join(', ')})`);
  }
  return names as Component[];
}

function checkedUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${name}: not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${name}: only http and https URLs: ${value}`);
  return value.replace(/\/+$/, '');
}

/**
 * GRAFANA_ADMIN_PASSWORD as Compose sets it: the lab keeps it in compose/.env,
 * which Compose reads and the student's shell does not.
 */
export function composeEnvValue(name: string, file = path.join(REPO_ROOT, 'compose', '.env')): string | undefined {
  try {
    return parseEnv(readFileSync(file, 'utf8'))[name];
  } catch {
    return undefined;
  }
}

/** The Grafana password and where it came from: the flag, the shell, compose/.env, else Grafana's default. */
function grafanaPasswordOf(fromFlag: string | undefined, env: Record<string, string | undefined>, composeEnvFile?: string): [string, string] {
  if (fromFlag !== undefined) return [fromFlag, '--grafana-password'];
  if (env.GRAFANA_ADMIN_PASSWORD) return [env.GRAFANA_ADMIN_PASSWORD, 'GRAFANA_ADMIN_PASSWORD'];
  const fromFile = composeEnvValue('GRAFANA_ADMIN_PASSWORD', composeEnvFile);
  return fromFile ? [fromFile, 'compose/.env'] : ['admin', 'the default admin'];
}

export function parseDoctorArgs(argv: string[], env: Record<string, string | undefined>, composeEnvFile?: string): DoctorOptions | 'help' {
  const urlOptions = Object.fromEntries(Object.values(ENDPOINTS).map((e) => [e.flag, { type: 'string' as const }]));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      allowNegative: true,
      options: {
        ...urlOptions,
        'grafana-user': { type: 'string' },
        'grafana-password': { type: 'string' },
        service: { type: 'string', default: 'cloudmart-backend' },
        'loki-selector': { type: 'string', default: '{service="backend"}' },
        lookback: { type: 'string', default: '1h' },
        timeout: { type: 'string' },
        elastic: { type: 'boolean' },
        only: { type: 'string' },
        skip: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help === true) return 'help';
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);

  const urls = {} as Record<EndpointName, string>;
  for (const [name, e] of Object.entries(ENDPOINTS) as [EndpointName, (typeof ENDPOINTS)[EndpointName]][]) {
    const fromFlag = str(e.flag);
    const fromEnv = env[e.env] || undefined;
    const source = fromFlag !== undefined ? `--${e.flag}` : fromEnv !== undefined ? e.env : 'default';
    urls[name] = checkedUrl(source, fromFlag ?? fromEnv ?? `http://localhost:${e.port}`);
  }

  // A bare number is milliseconds, as DOCTOR_TIMEOUT_MS's name says (and --lookback reads alike).
  const timeoutText = str('timeout') ?? (env.DOCTOR_TIMEOUT_MS || '3s');
  const timeoutMs = parseDuration(timeoutText, 'ms');
  if (timeoutMs === undefined || timeoutMs < 100 || timeoutMs > 60_000)
    throw new UsageError(`--timeout: use a duration from 100ms to 60s, not "${timeoutText}"`);
  const lookbackText = str('lookback') ?? '1h';
  const lookbackMs = parseDuration(lookbackText, 'ms');
  if (lookbackMs === undefined || lookbackMs < 60_000 || lookbackMs > 7 * 86_400_000)
    throw new UsageError(`--lookback: use a duration from 1m to 168h, not "${lookbackText}"`);

  const only = componentList('--only', str('only'));
  const skip = componentList('--skip', str('skip')) ?? [];
  if (only && skip.length) throw new UsageError('use --only or --skip, not both');
  const components = (only ?? [...COMPONENTS]).filter((c) => !skip.includes(c));

  const [grafanaPassword, grafanaPasswordSource] = grafanaPasswordOf(str('grafana-password'), env, composeEnvFile);

  const service = str('service') ?? 'cloudmart-backend';
  const lokiSelector = str('loki-selector') ?? '{service="backend"}';
  if (!/^\{.*\}$/.test(lokiSelector.trim()))
    throw new UsageError(`--loki-selector: a LogQL stream selector such as {service="backend"}, not "${lokiSelector}"`);

  return {
    urls,
    grafanaUser: str('grafana-user') ?? (env.GRAFANA_ADMIN_USER || 'admin'),
    grafanaPassword,
    grafanaPasswordSource,
    service,
    lokiSelector,
    lookbackSeconds: Math.round(lookbackMs / 1000),
    timeoutMs,
    elastic: typeof values.elastic === 'boolean' ? values.elastic : undefined,
    components,
  };
}
