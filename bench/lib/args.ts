import { parseArgs } from 'node:util';
import { parseDuration } from '../../scripts/lib/duration';

/** Command-line flags of `npm run bench`, with defaults that keep a full run under about five minutes. */

export const ALL_MODES = ['bare', 'metrics', 'metrics+logs', 'unsampled', 'full-stock', 'full', 'elastic'] as const;
export type Mode = (typeof ALL_MODES)[number];

/**
 * What a run measures unless --modes says otherwise. `unsampled` (full telemetry with
 * OTEL_TRACES_SAMPLER=always_off) is a diagnostic: set next to `metrics+logs` and `full`,
 * it splits tracing's cost into what the instrumentation and context propagation cost
 * before any span is recorded, and what recording and exporting add. `full-stock` is `full`
 * with CLOUDMART_TUNING=false: the textbook path, to show what src/tuning/ buys.
 */
export const DEFAULT_MODES: readonly Mode[] = ['bare', 'metrics', 'metrics+logs', 'full-stock', 'full', 'elastic'];

export const ALL_ENDPOINTS = ['products', 'orders'] as const;
export type Endpoint = (typeof ALL_ENDPOINTS)[number];

export type Tool = 'wrk' | 'autocannon';

export interface BenchOptions {
  durationMs: number;
  warmupMs: number;
  connections: number;
  rounds: number;
  /** Fresh service processes per mode over the run: the rounds are split between them. */
  processes: number;
  modes: Mode[];
  endpoints: Endpoint[];
  /** Long run with the OTLP endpoint down; 0 skips it. */
  longRunMs: number;
  /** Browse load on the embedded default (no database or cache configured), for its RSS; 0 skips it. */
  embeddedMs: number;
  metricsSamples: number;
  /** Modes run under node --cpu-prof (empty: none). */
  cpuProf: Mode[];
  tool: Tool;
  out: string;
  /** Another checkout whose dist/ to measure (e.g. the previous commit), for before/after runs. */
  serviceDir?: string;
  /** A second build measured in the same run, every mode as mode@baseline, in adjacent slices. */
  baselineDir?: string;
  /** Node flags for the service; default: those of the checkout's `npm start`. */
  nodeFlags?: string[];
  /** Extra environment for every service process (experiments: OTEL_BSP_*, ...). */
  serviceEnv: Record<string, string>;
  /** Environment for the baseline build's processes only, over serviceEnv: A/B of a switch. */
  baselineEnv: Record<string, string>;
  /** A Node.js version (scripts/node.sh installs it) for the baseline build's processes only. */
  baselineNode?: string;
}

export const USAGE = `npm run bench -- [flags]
  --duration 2s          one measured slice of load per mode, endpoint and round (whole seconds)
  --warmup 2s            unmeasured load per mode and endpoint before the first round
  --connections 10       concurrent keep-alive connections
  --rounds 8             rounds of slices, every mode's service up throughout, alternating
                         direction (bare…elastic, elastic…bare); medians of per-round ratios are reported
  --processes 4          service processes per mode, one after the other, the rounds split between
                         them: identical builds' processes have measured up to 30 % apart
  --modes a,b            subset of: ${ALL_MODES.join(', ')}
                         (default: all but unsampled, which is full with OTEL_TRACES_SAMPLER=always_off;
                         full-stock is full with CLOUDMART_TUNING=false, the code without src/tuning/)
  --endpoints a,b        subset of: ${ALL_ENDPOINTS.join(', ')}
  --long-run 60s         RSS check with the OTLP endpoint down (0 to skip)
  --embedded 20s         RSS of the embedded default (PGlite, memory cache) idle and under the
                         browse load scenario, per build (0 to skip)
  --metrics-samples 50   GET /metrics requests timed after each load
  --cpu-prof             run the full mode under node --cpu-prof and summarize the profiles
  --cpu-prof-modes a,b   profile these modes instead (e.g. bare,full to compare)
  --tool wrk|autocannon  load generator (default: wrk when installed)
  --out path             results JSON (default bench/results/latest.json)
  --service-dir path     measure the built service of another checkout instead of this one
  --baseline-dir path    also measure another checkout's build in the same run (rows mode@baseline,
                         slices next to this build's): before/after on a noisy machine
  --baseline-env K=V,... environment for the baseline build's processes only (repeatable); without
                         --baseline-dir the baseline is this build: an A/B of one switch, e.g.
                         --baseline-env CLOUDMART_TUNING=false
  --baseline-node 24.22.3  run the baseline build's processes on this Node.js (scripts/node.sh installs
                         it); without --baseline-dir the baseline is this build: an A/B of the runtime
  --node-flags="..."     node flags for the service instead of those in npm start (e.g. "" for V8
                         defaults; with the =, since the value starts with a dash)
  --service-env K=V,...  environment for every service process, over the mode's own (repeatable;
                         e.g. OTEL_BSP_MAX_EXPORT_BATCH_SIZE=512 or OTEL_NODE_DISABLED_INSTRUMENTATIONS=ioredis,pg)`;

export class UsageError extends Error {}

/** A flag's duration in milliseconds; a bare number is seconds, as the usage's "whole seconds" says. */
export function durationFlag(v: string): number {
  const ms = parseDuration(v, 's');
  if (ms === undefined) throw new UsageError(`not a duration: "${v}" (use e.g. 500ms, 10s, 1m)`);
  return ms;
}

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name}: expected a positive integer, got "${v}"`);
  return n;
}

function listOf<T extends string>(name: string, v: string, allowed: readonly T[]): T[] {
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const i of items) {
    if (!allowed.includes(i as T)) throw new UsageError(`--${name}: unknown "${i}" (use ${allowed.join(', ')})`);
  }
  if (!items.length) throw new UsageError(`--${name}: empty list`);
  return items as T[];
}

function parse(argv: string[]) {
  const text = { type: 'string' } as const;
  return parseArgs({
    args: argv,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      duration: text,
      warmup: text,
      connections: text,
      rounds: text,
      processes: text,
      modes: text,
      'cpu-prof': { type: 'boolean' },
      'cpu-prof-modes': text,
      endpoints: text,
      'long-run': text,
      embedded: text,
      'metrics-samples': text,
      tool: text,
      out: text,
      'service-dir': text,
      'baseline-dir': text,
      'service-env': { type: 'string', multiple: true },
      'baseline-env': { type: 'string', multiple: true },
      'baseline-node': text,
      'node-flags': text,
    },
  });
}

/**
 * "A=1,B=2" sets two variables; a part without "=" continues the previous value, so
 * lists survive: OTEL_NODE_DISABLED_INSTRUMENTATIONS=express,ioredis.
 */
function parseEnv(flag: string, value: string): Record<string, string> {
  const env: Record<string, string> = {};
  let last: string | undefined;
  for (const part of value.split(',').filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq > 0) {
      last = part.slice(0, eq);
      env[last] = part.slice(eq + 1);
    } else if (last) {
      env[last] = `${env[last] ?? ''},${part}`;
    } else {
      throw new UsageError(`--${flag}: expected KEY=VALUE, got "${part}"`);
    }
  }
  return env;
}

export function parseBenchArgs(argv: string[], wrkAvailable: boolean): BenchOptions {
  const opts: BenchOptions = {
    durationMs: 2000,
    warmupMs: 2000,
    connections: 10,
    rounds: 8,
    processes: 4,
    modes: [...DEFAULT_MODES],
    endpoints: [...ALL_ENDPOINTS],
    longRunMs: 60_000,
    embeddedMs: 20_000,
    metricsSamples: 50,
    cpuProf: [],
    tool: wrkAvailable ? 'wrk' : 'autocannon',
    out: 'bench/results/latest.json',
    serviceEnv: {},
    baselineEnv: {},
  };
  let values: ReturnType<typeof parse>['values'];
  try {
    ({ values } = parse(argv));
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
  }
  if (values.help) throw new UsageError(USAGE);
  if (values.duration !== undefined) opts.durationMs = durationFlag(values.duration);
  if (values.warmup !== undefined) opts.warmupMs = durationFlag(values.warmup);
  if (values.connections !== undefined) opts.connections = positiveInt('connections', values.connections);
  if (values.rounds !== undefined) opts.rounds = positiveInt('rounds', values.rounds);
  if (values.processes !== undefined) opts.processes = positiveInt('processes', values.processes);
  if (values.modes !== undefined) opts.modes = listOf('modes', values.modes, ALL_MODES);
  if (values['cpu-prof']) opts.cpuProf = ['full'];
  if (values['cpu-prof-modes'] !== undefined) opts.cpuProf = listOf('cpu-prof-modes', values['cpu-prof-modes'], ALL_MODES);
  if (values.endpoints !== undefined) opts.endpoints = listOf('endpoints', values.endpoints, ALL_ENDPOINTS);
  if (values['long-run'] !== undefined) opts.longRunMs = durationFlag(values['long-run']);
  if (values.embedded !== undefined) opts.embeddedMs = durationFlag(values.embedded);
  if (values['metrics-samples'] !== undefined) opts.metricsSamples = positiveInt('metrics-samples', values['metrics-samples']);
  if (values.tool !== undefined) {
    if (values.tool !== 'wrk' && values.tool !== 'autocannon') throw new UsageError('--tool: wrk or autocannon');
    if (values.tool === 'wrk' && !wrkAvailable) throw new UsageError('--tool wrk: wrk is not installed');
    opts.tool = values.tool;
  }
  if (values.out !== undefined) opts.out = values.out;
  opts.serviceDir = values['service-dir'];
  opts.baselineDir = values['baseline-dir'];
  for (const value of values['service-env'] ?? []) Object.assign(opts.serviceEnv, parseEnv('service-env', value));
  for (const value of values['baseline-env'] ?? []) Object.assign(opts.baselineEnv, parseEnv('baseline-env', value));
  opts.baselineNode = values['baseline-node'];
  if (opts.baselineNode !== undefined && !/^\d+\.\d+\.\d+$/.test(opts.baselineNode)) throw new UsageError('--baseline-node: a version, e.g. 24.22.3');
  if (Object.keys(opts.baselineEnv).length || opts.baselineNode) opts.baselineDir ??= opts.serviceDir ?? '.';
  if (values['node-flags'] !== undefined) opts.nodeFlags = values['node-flags'].split(/\s+/).filter(Boolean);
  const processesGiven = values.processes !== undefined;
  if (opts.durationMs < 1000) throw new UsageError('--duration: at least 1s');
  if (!processesGiven) opts.processes = Math.min(opts.processes, opts.rounds);
  else if (opts.processes > opts.rounds) throw new UsageError('--processes: at most --rounds (each process gets at least one round)');
  if (opts.longRunMs !== 0 && opts.longRunMs < 25_000) throw new UsageError('--long-run: 0, or at least 25s (it compares the first and last 10 s)');
  // Ratios need the baseline in the same run.
  if (!opts.modes.includes('bare')) opts.modes.unshift('bare');
  return opts;
}
