/**
 * The cost of observability, measured: the built service in five telemetry modes,
 * every mode's service up at once and measured in interleaved slices, against real
 * Postgres and Redis, with load from wrk (or autocannon) in a separate process.
 * See README "Benchmark: the cost of observability".
 *
 *   npm run bench [-- --duration 2s --connections 10 --rounds 8 --modes bare,full --cpu-prof]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createTestDatabase, REDIS_URL, sql, type TestDatabase } from '../testkit/postgres';
import { freePort, ROOT } from '../testkit/server-process';
import { parseBenchArgs, UsageError, type BenchOptions, type Endpoint, type Mode } from './lib/args';
import { measureEmbedded, type EmbeddedRssResult } from './lib/embedded';
import { drive, ENDPOINT_PATH } from './lib/load';
import { CountingApmReceiver, CountingOtlpReceiver } from './lib/receivers';
import {
  compareBuilds,
  comparisonTable,
  embeddedLine,
  embeddedTargets,
  ENDPOINT_TITLE,
  evaluateTargets,
  longRunFrom,
  markdownTable,
  median,
  percentile,
  summarize,
  type LongRunResult,
  type MetricsTiming,
  type RunResult,
} from './lib/report';
import { cpuMs, interrupted, onInterrupt, poolMaxFor, sampleRss, startFlags, startService, type Service } from './lib/service';
import { formatSummary, summarizeProfile, type ProfileSummary } from './profile-summary';

const PROFILE_DIR = path.join(ROOT, 'bench', 'results', 'profiles');

/** A build to measure: this checkout's (or --service-dir's), and optionally a baseline's. */
interface Build {
  dir: string;
  nodeFlags: string[];
  /** Appended to the mode in labels: "" for the build under test, "@baseline" for the other. */
  suffix: string;
  /** Environment over the mode's and --service-env's (--baseline-env for the baseline). */
  env: Record<string, string>;
  /** The node binary (--baseline-node for the baseline); default: the bench's own. */
  execPath?: string;
}

/** The DB_POOL_MAX that lets every service of a process set connect at once (logged when set). */
async function fitPools(url: string, services: number): Promise<number | undefined> {
  const [row] = await sql<{ max: string; reserved: string }>(
    url,
    "SELECT current_setting('max_connections') AS max, current_setting('superuser_reserved_connections') AS reserved",
  );
  const poolMax = poolMaxFor(services, Number(row?.max), Number(row?.reserved));
  if (poolMax) log(`DB_POOL_MAX=${poolMax} for each of ${services} services: Postgres allows ${row?.max} connections`);
  return poolMax;
}

/** An environment as the shell would set it: `K=V K2=V2` (empty for none). */
function envText(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** The node binary of a Node.js version, installed by scripts/node.sh into its cache; undefined: the bench's own. */
function nodeBinary(version: string | undefined): string | undefined {
  if (version === undefined) return undefined;
  return path.join(
    execFileSync('bash', [path.join(ROOT, 'scripts', 'node.sh'), version])
      .toString()
      .trim(),
    'node',
  );
}

/** A process's row label: the mode, suffixed for the baseline build ("full@baseline"). */
function labelOf(mode: Mode, build: Build): string {
  return `${mode}${build.suffix}`;
}

interface Context {
  opts: BenchOptions;
  db: TestDatabase;
  redisPrefix: string;
  builds: Build[];
  /** DB_POOL_MAX when the default pool would outgrow Postgres's max_connections. */
  poolMax?: number;
}

/** Where a mode's tracer sends: its own counting receiver, or (long run) a dead port. */
interface Sinks {
  otlp?: string;
  apm?: string;
}

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** The service's environment per mode. Metrics/logs/tracers are switched only by the documented variables. */
function envFor(mode: Mode, ctx: Context, build: Build, sinks: Sinks): Record<string, string> {
  return { ...modeEnv(mode, ctx, sinks), ...ctx.opts.serviceEnv, ...build.env };
}

function modeEnv(mode: Mode, ctx: Context, sinks: Sinks): Record<string, string> {
  const base = {
    DATABASE_URL: ctx.db.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: ctx.redisPrefix,
    MIGRATE_ON_START: 'false',
    ...(ctx.poolMax ? { DB_POOL_MAX: String(ctx.poolMax) } : {}),
  };
  const off = { OTEL_SDK_DISABLED: 'true', APM_AGENT: 'none' };
  switch (mode) {
    case 'bare':
      return { ...base, ...off, METRICS_ENABLED: 'false', LOG_LEVEL: 'silent' };
    case 'metrics':
      return { ...base, ...off, METRICS_ENABLED: 'true', LOG_LEVEL: 'silent' };
    case 'metrics+logs':
      return { ...base, ...off, METRICS_ENABLED: 'true', LOG_LEVEL: 'info' };
    case 'full':
    case 'full-stock':
    case 'unsampled':
      return {
        ...base,
        CLOUDMART_TUNING: mode === 'full-stock' ? 'false' : 'true',
        METRICS_ENABLED: 'true',
        LOG_LEVEL: 'info',
        APM_AGENT: 'otel',
        OTEL_SDK_DISABLED: 'false',
        OTEL_TRACES_SAMPLER: mode === 'unsampled' ? 'always_off' : 'always_on',
        OTEL_EXPORTER_OTLP_ENDPOINT: sinks.otlp ?? '',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      };
    case 'elastic':
      return {
        ...base,
        METRICS_ENABLED: 'true',
        LOG_LEVEL: 'info',
        APM_AGENT: 'elastic',
        ELASTIC_APM_SERVER_URL: sinks.apm ?? '',
        ELASTIC_APM_TRANSACTION_SAMPLE_RATE: '1.0',
      };
  }
}

/** Sequential GET /metrics on one keep-alive connection, as Prometheus scrapes (it asks for OpenMetrics). */
async function timeMetrics(url: string, n: number): Promise<{ medianMs: number; p95Ms: number; bytes: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const accept = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
  const once = () =>
    new Promise<{ ms: number; bytes: number }>((resolve, reject) => {
      const t0 = performance.now();
      http
        .get(`${url}/metrics`, { agent, headers: { accept } }, (res) => {
          let bytes = 0;
          res.on('data', (c: Buffer) => (bytes += c.length));
          res.on('end', () =>
            res.statusCode === 200 ? resolve({ ms: performance.now() - t0, bytes }) : reject(new Error(`/metrics answered ${res.statusCode}`)),
          );
        })
        .on('error', reject);
    });
  try {
    for (let i = 0; i < 3; i++) await once();
    const samples: { ms: number; bytes: number }[] = [];
    for (let i = 0; i < n; i++) samples.push(await once());
    const ms = samples.map((s) => s.ms);
    return { medianMs: median(ms), p95Ms: percentile(ms, 95), bytes: samples.at(-1)?.bytes ?? 0 };
  } finally {
    agent.destroy();
  }
}

/** Orders need stock; every order run starts from the same plenty. */
async function resetStock(ctx: Context): Promise<void> {
  await sql(ctx.db.url, 'UPDATE products SET stock = 1000000');
}

function maxOf(samples: { mb: number }[]): number {
  return samples.reduce((m, s) => Math.max(m, s.mb), 0);
}

/** One mode's service, alive for the whole run, and what was sent to it. */
interface ModeService {
  /** The mode, or mode@baseline for the baseline build's process. */
  label: string;
  mode: Mode;
  service: Service;
  receiver?: CountingOtlpReceiver | CountingApmReceiver;
  warmupRequests: Partial<Record<Endpoint, number>>;
  sent: Partial<Record<Endpoint, number>>;
}

/**
 * Every mode's service is started once per process set and stays up through its rounds,
 * which take turns between the services in short slices. A shared 2-vCPU VM changes speed
 * by tens of percent from one minute, even one slice, to the next (seen: bare 134–250 µs
 * of CPU per request within two minutes): one long run per mode compares modes measured
 * at different machine speeds, adjacent slices at nearer ones, and the median of many
 * paired slices washes out the rest.
 */
async function startModes(ctx: Context, processSet: number): Promise<ModeService[]> {
  const started: ModeService[] = [];
  try {
    // Mode-major, so a mode's two builds take adjacent slices. Which build starts first
    // alternates between process sets: in runs of one build against itself, the one started
    // first had come out a few per cent slower.
    const builds = processSet % 2 === 1 ? ctx.builds : [...ctx.builds].reverse();
    for (const mode of ctx.opts.modes) {
      for (const build of builds) {
        const label = labelOf(mode, build);
        // Each tracing process gets its own receiver, so spans are counted per process.
        const otlp = mode === 'full' || mode === 'full-stock' || mode === 'unsampled';
        const receiver = otlp ? await new CountingOtlpReceiver().start() : mode === 'elastic' ? await new CountingApmReceiver().start() : undefined;
        const profiled = ctx.opts.cpuProf.includes(mode);
        const service = await startService({
          cwd: build.dir,
          execPath: build.execPath,
          env: envFor(mode, ctx, build, otlp ? { otlp: receiver?.url } : { apm: receiver?.url }),
          nodeArgs: [
            ...build.nodeFlags,
            ...(profiled
              ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', `${label}${ctx.opts.processes > 1 ? `.${processSet}` : ''}.cpuprofile`]
              : []),
          ],
        }).catch(async (err: unknown) => {
          await receiver?.stop();
          throw err;
        });
        started.push({ label, mode, service, receiver, warmupRequests: {}, sent: {} });
      }
    }
  } catch (err) {
    await stopModes(started);
    await closeReceivers(started);
    throw err;
  }
  return started;
}

async function stopModes(services: ModeService[]): Promise<void> {
  await Promise.all(
    services.map(async ({ label, service }) => {
      const code = await service.stop();
      if (code !== 0) log(`service (${label}) exited with ${code}; stderr: ${service.stderr.join('').slice(0, 2000)}`);
    }),
  );
}

async function closeReceivers(services: ModeService[]): Promise<void> {
  await Promise.allSettled(services.flatMap((m) => (m.receiver ? [m.receiver.stop()] : [])));
}

function loadOptions(ctx: Context, m: ModeService, endpoint: Endpoint, durationMs: number) {
  return { tool: ctx.opts.tool, url: m.service.url, endpoint, connections: ctx.opts.connections, durationMs };
}

/** Unmeasured load, once per mode and endpoint: JIT, pools and the cache warm up. */
async function warmUp(ctx: Context, m: ModeService, endpoint: Endpoint): Promise<void> {
  const warm = await drive(loadOptions(ctx, m, endpoint, ctx.opts.warmupMs));
  m.warmupRequests[endpoint] = warm.requests;
  m.sent[endpoint] = (m.sent[endpoint] ?? 0) + warm.requests;
}

async function measureSlice(ctx: Context, m: ModeService, endpoint: Endpoint, round: number): Promise<RunResult> {
  const { pid } = m.service;
  const sampler = sampleRss(pid, 250);
  const cpu0 = cpuMs(pid) ?? NaN;
  const load = await drive(loadOptions(ctx, m, endpoint, ctx.opts.durationMs));
  const cpuUsPerRequest = (((cpuMs(pid) ?? NaN) - cpu0) * 1000) / Math.max(1, load.requests);
  const rssMaxMb = maxOf(sampler.stop());
  m.sent[endpoint] = (m.sent[endpoint] ?? 0) + load.requests;
  log(
    `round ${round} ${m.label.padEnd(12)} ${endpoint.padEnd(8)} ${load.rps.toFixed(0).padStart(6)} req/s  p50 ${load.p50Ms.toFixed(2)} ms  p99 ${load.p99Ms.toFixed(2)} ms  RSS ${rssMaxMb.toFixed(0)} MB  CPU ${cpuUsPerRequest.toFixed(0)} µs/req${load.errors ? `  ${load.errors} ERRORS` : ''}`,
  );
  // Spans arrive a batch later; they are counted once every service has flushed at exit.
  return { round, mode: m.label, endpoint, load, warmupRequests: m.warmupRequests[endpoint] ?? 0, rssMaxMb, cpuUsPerRequest, spansPerRequest: null };
}

/** Rounds alternate direction (bare…elastic, then elastic…bare) so a steady drift favours no mode. */
function slotOrder<T>(items: readonly T[], round: number): T[] {
  return round % 2 === 1 ? [...items] : [...items].reverse();
}

/**
 * Rounds first..last with one service process per mode (and build), started for them and
 * stopped after. A process keeps its own speed: identical builds' processes measured
 * up to 30 % apart for their whole life (JIT decisions, heap layout), which adjacent
 * slices cannot wash out, so the run's rounds are split between fresh processes.
 */
async function runRounds(ctx: Context, first: number, last: number, processSet: number): Promise<{ runs: RunResult[]; timings: MetricsTiming[] }> {
  const { opts } = ctx;
  const runs: RunResult[] = [];
  const timings: MetricsTiming[] = [];
  const services = await startModes(ctx, processSet);
  try {
    for (const endpoint of opts.endpoints) {
      if (endpoint === 'orders') await resetStock(ctx);
      for (const m of services) await warmUp(ctx, m, endpoint);
    }
    for (let round = first; round <= last; round++) {
      const order = slotOrder(services, round);
      for (const endpoint of opts.endpoints) {
        if (endpoint === 'orders') await resetStock(ctx);
        for (const m of order) runs.push(await measureSlice(ctx, m, endpoint, round));
      }
      for (const m of order) timings.push({ round, mode: m.label, ...(await timeMetrics(m.service.url, opts.metricsSamples)) });
    }
  } catch (err) {
    await stopModes(services);
    await closeReceivers(services);
    throw err;
  }
  await stopModes(services);
  // The tracers flushed at shutdown; let the receivers read and decode the last batches.
  await sleep(300);
  await Promise.all(services.flatMap((m) => (m.receiver ? [m.receiver.drain()] : [])));
  for (const m of services) {
    if (!m.receiver) continue;
    for (const endpoint of opts.endpoints) {
      const { spans } = m.receiver.tally.countFor(ENDPOINT_PATH[endpoint]);
      const perRequest = spans / Math.max(1, m.sent[endpoint] ?? 0);
      for (const r of runs) if (r.mode === m.label && r.endpoint === endpoint) r.spansPerRequest = perRequest;
    }
  }
  await closeReceivers(services);
  return { runs, timings };
}

/** Full telemetry with the OTLP endpoint on a dead port: the export queue must stay bounded. */
async function longRun(ctx: Context): Promise<LongRunResult> {
  const dead = await freePort();
  const [build] = ctx.builds;
  if (!build) throw new Error('no build to run');
  const service = await startService({ cwd: build.dir, nodeArgs: build.nodeFlags, env: envFor('full', ctx, build, { otlp: `http://127.0.0.1:${dead}` }) });
  try {
    const common = { tool: ctx.opts.tool, url: service.url, endpoint: 'products' as const, connections: ctx.opts.connections };
    await drive({ ...common, durationMs: ctx.opts.warmupMs });
    const sampler = sampleRss(service.pid, 1000);
    const load = await drive({ ...common, durationMs: ctx.opts.longRunMs });
    return longRunFrom(load, sampler.stop(), ctx.opts.longRunMs);
  } finally {
    await service.stop();
  }
}

async function cleanRedis(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  } catch {
    // Only housekeeping: cache entries expire by TTL anyway.
  } finally {
    redis.disconnect();
  }
}

function gitState(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

async function main(): Promise<void> {
  const wrkAvailable = spawnSync('wrk', ['--version']).error === undefined;
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(process.argv.slice(2), wrkAvailable);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const serviceDir = path.resolve(ROOT, opts.serviceDir ?? '.');
  const baselineDir = opts.baselineDir === undefined ? undefined : path.resolve(ROOT, opts.baselineDir);
  for (const dir of [serviceDir, baselineDir]) {
    if (dir && !existsSync(path.join(dir, 'dist', 'server.js')))
      throw new Error(`${dir}/dist/server.js missing: build it first (npm run bench builds this checkout)`);
  }
  if (opts.cpuProf.length) {
    rmSync(PROFILE_DIR, { recursive: true, force: true });
    mkdirSync(PROFILE_DIR, { recursive: true });
  }

  const started = Date.now();
  const loadBefore = os.loadavg();
  log(
    `${opts.rounds} round(s) × [${opts.modes.join(', ')}] × [${opts.endpoints.join(', ')}], ${opts.durationMs / 1000} s each, ${opts.connections} connections, ${opts.tool}`,
  );
  const db = await createTestDatabase('bench');
  const redisPrefix = `cloudmart-bench-${process.pid}:`;
  const cleanUp = async () => {
    await cleanRedis(redisPrefix);
    await db.drop();
  };
  onInterrupt(cleanUp);
  const ctx: Context = {
    opts,
    db,
    redisPrefix,
    builds: [
      { dir: serviceDir, nodeFlags: opts.nodeFlags ?? startFlags(serviceDir), suffix: '', env: {} },
      ...(baselineDir
        ? [
            {
              dir: baselineDir,
              nodeFlags: opts.nodeFlags ?? startFlags(baselineDir),
              suffix: '@baseline',
              env: opts.baselineEnv,
              execPath: nodeBinary(opts.baselineNode),
            },
          ]
        : []),
    ],
  };
  ctx.poolMax = await fitPools(db.url, opts.modes.length * ctx.builds.length);
  for (const b of ctx.builds) {
    const env = envText(b.env);
    const version = b.execPath ? execFileSync(b.execPath, ['--version']).toString().trim() : process.version;
    log(`service${b.suffix}: ${path.relative(ROOT, b.dir) || '.'}, node ${version} ${b.nodeFlags.join(' ') || '(no flags)'}${env ? `, ${env}` : ''}`);
  }
  const runs: RunResult[] = [];
  const timings: MetricsTiming[] = [];
  let long: LongRunResult | undefined;
  const embedded: EmbeddedRssResult[] = [];
  try {
    execFileSync(process.execPath, ['dist/scripts/migrate.js'], {
      cwd: serviceDir,
      env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (let p = 1, first = 1; p <= opts.processes; p++) {
      const last = Math.round((p * opts.rounds) / opts.processes);
      if (opts.processes > 1) log(`process set ${p} of ${opts.processes}: rounds ${first}–${last}`);
      const measured = await runRounds(ctx, first, last, p);
      runs.push(...measured.runs);
      timings.push(...measured.timings);
      first = last + 1;
    }
    if (opts.longRunMs > 0) {
      log(`long run: full telemetry, OTLP endpoint down, ${opts.longRunMs / 1000} s`);
      long = await longRun(ctx);
      log(
        `long run: RSS ${long.first10sMb.toFixed(0)} MB (first 10 s) → ${long.last10sMb.toFixed(0)} MB (last 10 s), ${long.rps.toFixed(0)} req/s, ${long.errors} errors`,
      );
    }
    if (opts.embeddedMs > 0) {
      for (const b of ctx.builds) {
        log(`embedded default${b.suffix}: start, idle, ${opts.embeddedMs / 1000} s of the browse scenario`);
        const e = await measureEmbedded(b.dir, b.nodeFlags, b.suffix, opts.embeddedMs, b.env, b.execPath);
        embedded.push(e);
        log(embeddedLine(e));
      }
    }
  } finally {
    await cleanUp();
  }

  const profiles: ProfileSummary[] = [];
  if (opts.cpuProf.length && existsSync(PROFILE_DIR)) {
    for (const f of readdirSync(PROFILE_DIR)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort()) {
      profiles.push(summarizeProfile(path.join(PROFILE_DIR, f), 20));
    }
  }

  const labels = opts.modes.flatMap((m) => ctx.builds.map((b) => labelOf(m, b)));
  const summaries = summarize(runs, timings, labels, opts.endpoints);
  const comparisons = compareBuilds(runs, opts.modes, opts.endpoints);
  const targets = [...evaluateTargets(summaries, long), ...embeddedTargets(embedded)];
  const results = {
    startedAt: new Date(started).toISOString(),
    elapsedS: Math.round((Date.now() - started) / 1000),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', node: process.version, loadavgBefore: loadBefore, loadavgAfter: os.loadavg() },
    git: gitState(),
    serviceDir: path.relative(ROOT, serviceDir) || '.',
    baselineDir: baselineDir === undefined ? undefined : path.relative(ROOT, baselineDir),
    nodeFlags: ctx.builds[0]?.nodeFlags ?? [],
    options: opts,
    cpuProfiled: opts.cpuProf,
    summaries,
    comparisons,
    targets,
    longRun: long,
    embedded,
    metricsTimings: timings,
    runs,
    profiles,
  };
  const out = path.resolve(ROOT, opts.out);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);

  const lines: string[] = [];
  for (const endpoint of opts.endpoints) {
    lines.push(
      `### ${ENDPOINT_TITLE[endpoint]}: ${opts.connections} connections, ${opts.durationMs / 1000} s × ${opts.rounds} round(s), ${opts.processes} process(es) per mode, medians`,
      '',
      markdownTable(summaries, endpoint),
      '',
    );
  }
  if (comparisons.length) {
    const env = envText(opts.baselineEnv);
    lines.push(
      `### This build against the baseline (${path.relative(ROOT, baselineDir ?? '') || 'this build'}${env ? ` with ${env}` : ''}): medians of per-round ratios`,
      '',
      comparisonTable(comparisons),
      '',
    );
  }
  if (long) {
    lines.push(
      `Long run, OTLP endpoint down (${long.durationMs / 1000} s, full telemetry): RSS ${long.first10sMb.toFixed(0)} MB first 10 s, ${long.last10sMb.toFixed(0)} MB last 10 s, max ${long.maxMb.toFixed(0)} MB; ${long.rps.toFixed(0)} req/s, ${long.errors} errors.`,
      '',
    );
  }
  for (const e of embedded) lines.push(embeddedLine(e), '');
  if (opts.cpuProf.length) lines.push(`Note: ${opts.cpuProf.join(', ')} ran under --cpu-prof; those numbers include the profiler overhead.`, '');
  lines.push('Targets (full telemetry, 100 % sampling, cached GET /api/products; the embedded default):', '');
  for (const t of targets) lines.push(`- ${t.pass ? 'PASS' : 'FAIL'} ${t.name}: ${t.value}`);
  lines.push(
    '',
    `${os.cpus().length} CPUs, node ${process.version} ${results.nodeFlags.join(' ') || '(V8 default heap)'}, ${results.elapsedS} s; JSON: ${path.relative(ROOT, out)}`,
  );
  process.stdout.write(`\n${lines.join('\n')}\n`);
  for (const p of profiles) process.stdout.write(`\n${formatSummary(p)}\n`);
}

main().catch((err: unknown) => {
  if (interrupted()) return;
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
