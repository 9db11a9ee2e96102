/**
 * The floor: what OpenTelemetry costs per request in the cheapest Express service there is,
 * measured the way `npm run bench` measures CloudMart (interleaved slices, wrk, loopback,
 * CPU per request from /proc, medians of per-round ratios to the same Node's bare).
 *
 *   npm run bench:floor [-- --rounds 6 --duration 3s]
 *   npm run bench:floor -- --node 22.23.5,24.22.3,26.12.1 --no-acf [--otel 2,3]
 *
 * Every row is the same minimal app (bench/floor/app.cjs) with Express from the repo, one
 * process per row, all up throughout; each round takes one slice of every row. Modes:
 * - bare: no tracer (one per Node);
 * - http-span: the NodeSDK with only the http instrumentation, one server span per request,
 *   100 % sampled, exported as OTLP/protobuf to a receiver that decodes and counts the spans;
 * - http-span-unsampled: the same tracer with OTEL_TRACES_SAMPLER=always_off, which exports
 *   nothing: what the instrumentation and context propagation cost before any span is recorded;
 * - auto-default: auto-instrumentations-node at its defaults, the same export (default run only).
 *
 * Flags:
 * - --node a,b: Node versions, each installed by scripts/node.sh (default: the Node running this);
 * - --no-acf: also the newest of those Nodes (24+) with --no-async-context-frame, which brings
 *   back the AsyncLocalStorage of Node 22, with its own bare;
 * - --otel 2,3: OpenTelemetry JS 3 is the repo's node_modules; JS 2 is bench/floor/otel2's lockfile,
 *   installed by `npm ci` outside the checkout, in ${CLOUDMART_CACHE:-~/.cache/cloudmart}/
 *   bench-otel2-<lockfile hash>/ (default: 2,3 with --node or --no-acf, else 3).
 *
 * The difference in CPU per request between bare and http-span is the price of one traced
 * request on this machine, and no configuration of CloudMart's can go below it; the summary
 * splits it into the unsampled part and what recording and exporting add.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { durationFlag } from './lib/args';
import { drive, type LoadResult } from './lib/load';
import { CountingOtlpReceiver } from './lib/receivers';
import { median } from './lib/report';
import { cpuMs, startFlags, startService, type Service } from './lib/service';
import { ROOT } from '../testkit/server-process';

type FloorMode = 'bare' | 'http-span-unsampled' | 'http-span' | 'auto-default';
type Otel = '2' | '3';

const TRACER: Record<FloorMode, string[]> = {
  bare: [],
  'http-span-unsampled': ['--require', './bench/floor/trace-http.cjs'],
  'http-span': ['--require', './bench/floor/trace-http.cjs'],
  'auto-default': ['--require', './bench/floor/trace-auto.cjs'],
};

const USAGE = 'usage: npm run bench:floor [-- --rounds 6 --duration 3s --node 22.23.5,26.12.1 --no-acf --otel 2,3]';

interface NodeRun {
  /** The version, and " no-ACF" for the --no-async-context-frame row. */
  label: string;
  bin: string;
  flags: string[];
}

interface Row {
  node: NodeRun;
  otel?: Otel;
  mode: FloorMode;
  service: Service;
  receiver?: CountingOtlpReceiver;
  sent: number;
  /** Per round: the slice's load and the service's CPU µs per request. */
  slices: Map<number, { load: LoadResult; cpuUs: number }>;
}

interface Options {
  rounds: number;
  durationMs: number;
  nodes: NodeRun[];
  otels: Otel[];
  modes: FloorMode[];
}

function nodeRun(version: string): NodeRun {
  const out = spawnSync('bash', [path.join(ROOT, 'scripts/node.sh'), version], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (out.status !== 0) throw new Error(`scripts/node.sh ${version} failed`);
  return { label: version, bin: path.join(out.stdout.trim(), 'node'), flags: [] };
}

const OPTIONS = {
  rounds: { type: 'string' },
  duration: { type: 'string' },
  node: { type: 'string' },
  otel: { type: 'string' },
  'no-acf': { type: 'boolean' },
} as const;
const parse = (argv: string[]) => parseArgs({ args: argv, options: OPTIONS, strict: true });

function optionsOf(argv: string[]): Options {
  let values: ReturnType<typeof parse>['values'];
  try {
    ({ values } = parse(argv));
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`, { cause: err });
  }
  const rounds = Math.max(1, Number(values.rounds) || 6);
  const durationMs = values.duration === undefined ? 3000 : durationFlag(values.duration);
  const list = (v: string) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const nodes = values.node === undefined ? [{ label: process.versions.node, bin: process.execPath, flags: [] }] : list(values.node).map(nodeRun);
  const matrix = values.node !== undefined || values['no-acf'] === true;
  const otels = list(values.otel ?? (matrix ? '2,3' : '3'));
  if (!nodes.length || !otels.length || otels.some((o) => o !== '2' && o !== '3')) throw new Error(USAGE);
  if (values['no-acf']) {
    const newest = nodes.reduce((a, b) => (major(b.label) > major(a.label) ? b : a));
    if (major(newest.label) < 24) throw new Error('--no-acf: needs a Node 24 or later among --node');
    nodes.push({ label: `${newest.label} no-ACF`, bin: newest.bin, flags: ['--no-async-context-frame'] });
  }
  // auto-default measures the stock SDK, not the cause of a regression: only in the default run.
  const modes: FloorMode[] = ['bare', 'http-span-unsampled', 'http-span', ...(matrix || values.otel !== undefined ? [] : (['auto-default'] as const))];
  return { rounds, durationMs, nodes, otels: otels as Otel[], modes };
}

function major(version: string): number {
  return Number(version.split('.')[0]);
}

/**
 * node_modules of bench/floor/otel2 (OpenTelemetry JS 2), installed by `npm ci` into a cache
 * outside the checkout keyed by its lockfile's hash, so a changed pin installs afresh.
 */
function otel2Modules(): string {
  const src = path.join(ROOT, 'bench/floor/otel2');
  const hash = createHash('sha256')
    .update(readFileSync(path.join(src, 'package-lock.json')))
    .digest('hex')
    .slice(0, 12);
  const cache = process.env.CLOUDMART_CACHE || path.join(os.homedir(), '.cache/cloudmart');
  const dir = path.join(cache, `bench-otel2-${hash}`);
  if (!existsSync(path.join(dir, '.complete'))) {
    mkdirSync(cache, { recursive: true });
    // Installed beside the target and renamed into place, so a run never sees half an install.
    const tmp = mkdtempSync(path.join(cache, '.bench-otel2-'));
    try {
      for (const f of ['package.json', 'package-lock.json']) copyFileSync(path.join(src, f), path.join(tmp, f));
      const npm = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: tmp, stdio: ['ignore', 2, 2] });
      if (npm.status !== 0) throw new Error(`npm ci of bench/floor/otel2 failed (${npm.status ?? npm.signal ?? npm.error?.message ?? ''})`);
      writeFileSync(path.join(tmp, '.complete'), '');
      if (!existsSync(path.join(dir, '.complete'))) {
        rmSync(dir, { recursive: true, force: true });
        renameSync(tmp, dir);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return path.join(dir, 'node_modules');
}

/** "sdk-node 0.301.2, sdk-trace 3.1.1": what an OpenTelemetry row actually loads. */
function otelVersions(modules: string): string {
  return ['sdk-node', 'sdk-trace-base', 'sdk-trace', 'instrumentation-http']
    .filter((p) => existsSync(path.join(modules, '@opentelemetry', p, 'package.json')))
    .map((p) => `${p} ${(JSON.parse(readFileSync(path.join(modules, '@opentelemetry', p, 'package.json'), 'utf8')) as { version: string }).version}`)
    .join(', ');
}

async function start(node: NodeRun, mode: FloorMode, otel: Otel | undefined, modules: string | undefined): Promise<Row> {
  const receiver = mode === 'bare' ? undefined : await new CountingOtlpReceiver().start();
  const service = await startService({
    execPath: node.bin,
    // The same heap flags as `npm start`, so the floor and CloudMart run alike.
    nodeArgs: [...startFlags(ROOT), ...node.flags, ...TRACER[mode]],
    script: ['bench/floor/app.cjs'],
    readyPath: '/api/products',
    env: {
      OTEL_SERVICE_NAME: 'floor',
      OTEL_TRACES_SAMPLER: mode === 'http-span-unsampled' ? 'always_off' : 'always_on',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver?.url ?? '',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      ...(modules ? { FLOOR_OTEL_MODULES: modules } : {}),
    },
  });
  return { node, otel, mode, service, receiver, sent: 0, slices: new Map() };
}

const load = (url: string, durationMs: number) => drive({ tool: 'wrk', url, endpoint: 'products', connections: 10, durationMs });

async function slice(r: Row, durationMs: number, round: number): Promise<void> {
  const cpu0 = cpuMs(r.service.pid) ?? NaN;
  const result = await load(r.service.url, durationMs);
  const cpuUs = (((cpuMs(r.service.pid) ?? NaN) - cpu0) * 1000) / Math.max(1, result.requests);
  r.sent += result.requests;
  r.slices.set(round, { load: result, cpuUs });
  const name = `${r.node.label} ${r.otel ? `otel${r.otel} ` : ''}${r.mode}`;
  process.stderr.write(`round ${round} ${name.padEnd(36)} ${result.rps.toFixed(0).padStart(6)} req/s  CPU ${cpuUs.toFixed(0)} µs/req\n`);
}

/** Median over rounds of f(row's slice, reference's slice), rounds where both ran. */
function perRound(r: Row, ref: Row | undefined, f: (a: { load: LoadResult; cpuUs: number }, b: { load: LoadResult; cpuUs: number }) => number): number {
  return median(
    [...r.slices].flatMap(([round, s]) => {
      const b = ref?.slices.get(round);
      return b ? [f(s, b)] : [];
    }),
  );
}

const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(0)}`;

async function main(): Promise<void> {
  const o = optionsOf(process.argv.slice(2));
  const modules: Partial<Record<Otel, string>> = o.otels.includes('2') ? { '2': otel2Modules() } : {};
  const rows: Row[] = [];
  try {
    for (const node of o.nodes) {
      for (const mode of o.modes) {
        for (const otel of mode === 'bare' ? [undefined] : o.otels) {
          rows.push(await start(node, mode, otel, otel ? modules[otel] : undefined));
        }
      }
    }
    for (const r of rows) r.sent += (await load(r.service.url, 2000)).requests;
    for (let round = 1; round <= o.rounds; round++) {
      for (const r of round % 2 ? rows : [...rows].reverse()) await slice(r, o.durationMs, round);
    }
  } finally {
    await Promise.all(rows.map((r) => r.service.stop()));
  }
  await sleep(300);
  await Promise.all(rows.flatMap((r) => (r.receiver ? [r.receiver.drain()] : [])));
  await Promise.all(rows.flatMap((r) => (r.receiver ? [r.receiver.stop()] : [])));

  const find = (node: NodeRun, mode: FloorMode, otel?: Otel) => rows.find((r) => r.node === node && r.mode === mode && r.otel === otel);
  const lines = [
    '',
    `### Floor: minimal Express 5 app, GET /api/products from memory, 10 connections, ${o.durationMs / 1000} s × ${o.rounds} rounds, medians`,
    '',
    ...o.otels.map((otel) => `OpenTelemetry JS ${otel}: ${otelVersions(modules[otel] ?? path.join(ROOT, 'node_modules'))}`),
    '',
    '| node | otel | mode | req/s | × bare | p99 ms | CPU µs/req | µs/req over bare | spans/req |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  const failures: string[] = [];
  for (const r of rows) {
    const bare = find(r.node, 'bare');
    const own = [...r.slices.values()];
    const spans = r.receiver?.tally.total ?? 0;
    const name = `${r.node.label} otel${r.otel ?? ''} ${r.mode}`;
    // A sampled row that exported nothing measured no tracing; an unsampled one that exported spans measured the wrong thing.
    if (r.receiver && r.mode !== 'http-span-unsampled' && spans === 0) failures.push(`${name} exported no spans`);
    if (r.mode === 'http-span-unsampled' && spans > 0) failures.push(`${name} exported ${spans} spans`);
    lines.push(
      `| ${r.node.label} | ${r.otel ?? '–'} | ${r.mode} | ${median(own.map((s) => s.load.rps)).toFixed(0)} | ${perRound(r, bare, (a, b) => a.load.rps / b.load.rps).toFixed(2)} | ${median(own.map((s) => s.load.p99Ms)).toFixed(2)} | ${median(own.map((s) => s.cpuUs)).toFixed(0)} | ${r.mode === 'bare' ? '–' : signed(perRound(r, bare, (a, b) => a.cpuUs - b.cpuUs))} | ${r.receiver ? (spans / Math.max(1, r.sent)).toFixed(2) : '–'} |`,
    );
  }
  lines.push('');
  for (const node of o.nodes) {
    for (const otel of o.otels) {
      const bare = find(node, 'bare');
      const unsampled = find(node, 'http-span-unsampled', otel);
      const full = find(node, 'http-span', otel);
      if (!unsampled || !full) continue;
      const part = (a: Row, b: Row | undefined) => signed(perRound(a, b, (x, y) => x.cpuUs - y.cpuUs));
      lines.push(
        `Node ${node.label}, OpenTelemetry JS ${otel}: unsampled part ${part(unsampled, bare)} µs/req, recording+export part ${part(full, unsampled)} µs/req (full − bare ${part(full, bare)})`,
      );
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  if (failures.length) throw new Error(`floor: ${failures.join('; ')}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
