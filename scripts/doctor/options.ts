import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, parseEnv, type ParseArgsOptionsConfig } from 'node:util';
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
const endpoints = Object.entries(ENDPOINTS) as [EndpointName, (typeof ENDPOINTS)[EndpointName]][];

/** The other environment variables the doctor reads. */
export const DOCTOR_ENV = ['GRAFANA_ADMIN_USER', 'GRAFANA_ADMIN_PASSWORD', 'DOCTOR_TIMEOUT_MS'] as const;

/** The options a check reads: what parseDoctorArgs returns for anything but --help. */
export type DoctorOptions = Exclude<ReturnType<typeof parseDoctorArgs>, 'help'>;

export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Every option: its argument (none for a switch) and what --help says of it. One table for the
 * parser and the help, so that they cannot drift; --no-elastic is parseArgs' negation of --elastic.
 */
const OPTIONS: [flag: string, arg: string, help: string][] = [
  ...endpoints.map(([, e]): [string, string, string] => [e.flag, 'URL', `${e.env.padEnd(20)}default http://localhost:${e.port}`]),
  ['grafana-user', 'NAME', 'GRAFANA_ADMIN_USER  default admin'],
  ['grafana-password', 'PW', "GRAFANA_ADMIN_PASSWORD, else compose/.env's, else admin"],
  ['service', 'NAME', 'the traced service to look for in Jaeger (default cloudmart-backend)'],
  ['loki-selector', 'SEL', 'the backend\'s log stream in Loki (default {service="backend"})'],
  ['lookback', 'T', 'how far back to look for traces and logs: 15m, 1h (default 1h)'],
  ['timeout', 'T', 'bound on each request: 3s, 500ms (default 3s; DOCTOR_TIMEOUT_MS)'],
  ['elastic', '', 'require the Elastic profile (Kibana, APM server, Elasticsearch)'],
  ['no-elastic', '', 'do not check it (default: checked only when one of them answers)'],
  ['only', 'LIST', `check only these, comma-separated: ${COMPONENTS.join(',')}`],
  ['skip', 'LIST', 'check all but these'],
];

export const USAGE = `Usage: npm run doctor -- [options]

Checks a running CloudMart lab stack (docker compose -f compose/compose.yaml ...) and
prints a checklist with a fix for every miss. Exit code 0: nothing missed; 1: something
missed; 2: bad options.

Options (each URL also from the environment variable named after it):
${OPTIONS.map(([flag, arg, help]) => `  ${`--${flag} ${arg}`.trim().padEnd(23)}  ${help}`).join('\n')}
  -h, --help               this text`;

function componentList(flag: string, value: string | undefined): Component[] | undefined {
  const names = value?.split(',').flatMap((s) => s.trim() || []);
  const unknown = names?.find((n) => !(COMPONENTS as readonly string[]).includes(n));
  if (unknown !== undefined) throw new UsageError(`${flag}: unknown component "${unknown}" (use ${COMPONENTS.join(', ')})`);
  return names as Component[] | undefined;
}

function checkedUrl(name: string, value: string): string {
  const protocol = URL.parse(value)?.protocol;
  if (protocol === undefined) throw new UsageError(`${name}: not a URL: ${value}`);
  if (protocol !== 'http:' && protocol !== 'https:') throw new UsageError(`${name}: only http and https URLs: ${value}`);
  return value.replace(/\/+$/, '');
}

/** A duration option in milliseconds, within its bounds; a bare number is milliseconds, as DOCTOR_TIMEOUT_MS's name says. */
function durationMs(flag: string, text: string, min: number, max: number, range: string): number {
  const ms = parseDuration(text, 'ms');
  if (ms === undefined || ms < min || ms > max) throw new UsageError(`${flag}: use a duration from ${range}, not "${text}"`);
  return ms;
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

export function parseDoctorArgs(argv: string[], env: Record<string, string | undefined>, composeEnvFile?: string) {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options: ParseArgsOptionsConfig = { help: { type: 'boolean', short: 'h' } };
    for (const [flag, arg] of OPTIONS) if (flag !== 'no-elastic') options[flag] = { type: arg ? 'string' : 'boolean' };
    // No option is `multiple`, so no value is an array.
    values = parseArgs({ args: argv, allowPositionals: false, allowNegative: true, options }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help === true) return 'help' as const;
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);

  const urls = {} as Record<EndpointName, string>;
  for (const [name, e] of endpoints) {
    const fromFlag = str(e.flag);
    const fromEnv = env[e.env] || undefined;
    const source = fromFlag !== undefined ? `--${e.flag}` : fromEnv !== undefined ? e.env : 'default';
    urls[name] = checkedUrl(source, fromFlag ?? fromEnv ?? `http://localhost:${e.port}`);
  }
  const timeoutMs = durationMs('--timeout', str('timeout') ?? (env.DOCTOR_TIMEOUT_MS || '3s'), 100, 60_000, '100ms to 60s');
  const lookbackMs = durationMs('--lookback', str('lookback') ?? '1h', 60_000, 7 * 86_400_000, '1m to 168h');

  const only = componentList('--only', str('only'));
  const skip = componentList('--skip', str('skip')) ?? [];
  if (only && skip.length) throw new UsageError('use --only or --skip, not both');

  const lokiSelector = str('loki-selector') ?? '{service="backend"}';
  if (!/^\{.*\}$/.test(lokiSelector.trim()))
    throw new UsageError(`--loki-selector: a LogQL stream selector such as {service="backend"}, not "${lokiSelector}"`);
  const [grafanaPassword, grafanaPasswordSource] = grafanaPasswordOf(str('grafana-password'), env, composeEnvFile);
  return {
    urls,
    grafanaUser: str('grafana-user') ?? (env.GRAFANA_ADMIN_USER || 'admin'),
    grafanaPassword,
    /** Where the password came from, for the fix line of a 401. */
    grafanaPasswordSource,
    service: str('service') ?? 'cloudmart-backend',
    lokiSelector,
    lookbackSeconds: Math.round(lookbackMs / 1000),
    timeoutMs,
    /** true: the Elastic profile must run; false: do not check it; undefined: check it when it answers. */
    elastic: typeof values.elastic === 'boolean' ? values.elastic : undefined,
    components: (only ?? [...COMPONENTS]).filter((c) => !skip.includes(c)),
  };
}
