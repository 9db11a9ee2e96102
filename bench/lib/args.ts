/** Command-line flags of `npm run bench`, with defaults that keep a full run under about five minutes. */

export const ALL_MODES = ['bare', 'metrics', 'metrics+logs', 'unsampled', 'full', 'elastic'] as const;
export type Mode = (typeof ALL_MODES)[number];

/**
 * What a run measures unless --modes says otherwise. `unsampled` (full telemetry with
 * OTEL_TRACES_SAMPLER=always_off) is a diagnostic: set next to `metrics+logs` and `full`,
 * it splits tracing's cost into what the instrumentation and context propagation cost
 * before any span is recorded, and what recording and exporting add.
 */
export const DEFAULT_MODES: readonly Mode[] = ['bare', 'metrics', 'metrics+logs', 'full', 'elastic'];

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
                         (default: all but unsampled, which is full with OTEL_TRACES_SAMPLER=always_off)
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
  --node-flags "..."     node flags for the service instead of those in npm start (e.g. "" for V8 defaults)
  --service-env K=V,...  environment for every service process, over the mode's own (repeatable;
                         e.g. OTEL_BSP_MAX_EXPORT_BATCH_SIZE=512 or OTEL_NODE_DISABLED_INSTRUMENTATIONS=ioredis,pg)`;

export class UsageError extends Error {}

/** "6s", "500ms", "1m", or a bare number of seconds. */
export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new UsageError(`not a duration: "${v}" (use e.g. 500ms, 10s, 1m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(unit === 'ms' ? n : unit === 'm' ? n * 60_000 : n * 1000);
}

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name}: expected a positive integer, got "${v}"`);
  return n;
}

function listOf<T extends string>(name: string, v: string, allowed: readonly T[]): T[] {
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const i of items) {
    if (!allowed.includes(i as T)) throw new UsageError(`--${name}: unknown "${i}" (use ${allowed.join(', ')})`);
  }
  if (!items.length) throw new UsageError(`--${name}: empty list`);
  return items as T[];
}

export function parseArgs(argv: string[], wrkAvailable: boolean): BenchOptions {
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
  };
  let processesGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] ?? '';
    if (raw === '--help' || raw === '-h') throw new UsageError(USAGE);
    if (raw === '--cpu-prof') {
      opts.cpuProf = ['full'];
      continue;
    }
    const eq = raw.indexOf('=');
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const value = eq > 0 ? raw.slice(eq + 1) : argv[++i];
    if (!flag.startsWith('--') || value === undefined) throw new UsageError(`unexpected argument "${raw}"\n\n${USAGE}`);
    switch (flag.slice(2)) {
      case 'duration':
        opts.durationMs = parseDuration(value);
        break;
      case 'warmup':
        opts.warmupMs = parseDuration(value);
        break;
      case 'connections':
        opts.connections = positiveInt('connections', value);
        break;
      case 'rounds':
        opts.rounds = positiveInt('rounds', value);
        break;
      case 'processes':
        opts.processes = positiveInt('processes', value);
        processesGiven = true;
        break;
      case 'modes':
        opts.modes = listOf('modes', value, ALL_MODES);
        break;
      case 'cpu-prof-modes':
        opts.cpuProf = listOf('cpu-prof-modes', value, ALL_MODES);
        break;
      case 'endpoints':
        opts.endpoints = listOf('endpoints', value, ALL_ENDPOINTS);
        break;
      case 'long-run':
        opts.longRunMs = parseDuration(value);
        break;
      case 'embedded':
        opts.embeddedMs = parseDuration(value);
        break;
      case 'metrics-samples':
        opts.metricsSamples = positiveInt('metrics-samples', value);
        break;
      case 'tool':
        if (value !== 'wrk' && value !== 'autocannon') throw new UsageError('--tool: wrk or autocannon');
        if (value === 'wrk' && !wrkAvailable) throw new UsageError('--tool wrk: wrk is not installed');
        opts.tool = value;
        break;
      case 'out':
        opts.out = value;
        break;
      case 'service-dir':
        opts.serviceDir = value;
        break;
      case 'baseline-dir':
        opts.baselineDir = value;
        break;
      case 'service-env':
        // Repeatable; "A=1,B=2" sets two, and a part without "=" continues the previous
        // value, so lists survive: OTEL_NODE_DISABLED_INSTRUMENTATIONS=express,ioredis.
        {
          let last: string | undefined;
          for (const part of value.split(',').filter(Boolean)) {
            const eq = part.indexOf('=');
            if (eq > 0) {
              last = part.slice(0, eq);
              opts.serviceEnv[last] = part.slice(eq + 1);
            } else if (last) {
              opts.serviceEnv[last] += `,${part}`;
            } else {
              throw new UsageError(`--service-env: expected KEY=VALUE, got "${part}"`);
            }
          }
        }
        break;
      case 'node-flags':
        opts.nodeFlags = value.split(/\s+/).filter(Boolean);
        break;
      default:
        throw new UsageError(`unknown flag ${flag}\n\n${USAGE}`);
    }
  }
  if (opts.durationMs < 1000) throw new UsageError('--duration: at least 1s');
  if (!processesGiven) opts.processes = Math.min(opts.processes, opts.rounds);
  else if (opts.processes > opts.rounds) throw new UsageError('--processes: at most --rounds (each process gets at least one round)');
  if (opts.longRunMs !== 0 && opts.longRunMs < 25_000) throw new UsageError('--long-run: 0, or at least 25s (it compares the first and last 10 s)');
  // Ratios need the baseline in the same run.
  if (!opts.modes.includes('bare')) opts.modes.unshift('bare');
  return opts;
}
