/**
 * The floor: what OpenTelemetry costs per request in the cheapest Express service there is,
 * measured the way `npm run bench` measures CloudMart (interleaved slices, wrk, loopback,
 * CPU per request from /proc, medians of per-round ratios).
 *
 *   npm run bench:floor [-- --rounds 6 --duration 3s]
 *
 * Modes, all the same minimal app (bench/floor/app.cjs):
 * - bare: no tracer;
 * - http-span: the NodeSDK with only the http instrumentation, one server span per request,
 *   100 % sampled, exported as OTLP/protobuf to a receiver that decodes and counts the spans;
 * - auto-default: auto-instrumentations-node at its defaults, the same export.
 *
 * The difference in CPU per request between bare and http-span is the price of one traced
 * request on this machine, and no configuration of CloudMart's can go below it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { durationFlag } from './lib/args';
import { drive, type LoadResult } from './lib/load';
import { CountingOtlpReceiver } from './lib/receivers';
import { median } from './lib/report';
import { cpuMs, startFlags, startService, type Service } from './lib/service';
import { ROOT } from '../testkit/server-process';

const MODES = ['bare', 'http-span', 'auto-default'] as const;
type FloorMode = (typeof MODES)[number];

const TRACER: Record<FloorMode, string[]> = {
  bare: [],
  'http-span': ['--require', './bench/floor/trace-http.cjs'],
  'auto-default': ['--require', './bench/floor/trace-auto.cjs'],
};

interface Slice {
  round: number;
  mode: FloorMode;
  load: LoadResult;
  cpuUsPerRequest: number;
}

interface Running {
  mode: FloorMode;
  service: Service;
  receiver?: CountingOtlpReceiver;
  sent: number;
}

function argsOf(argv: string[]): { rounds: number; durationMs: number } {
  let rounds = 6;
  let durationMs = 3000;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rounds') rounds = Math.max(1, Number(argv[++i]) || rounds);
    else if (argv[i] === '--duration') durationMs = durationFlag(argv[++i] ?? '');
    else throw new Error(`usage: npm run bench:floor [-- --rounds N --duration 3s] (got "${argv[i]}")`);
  }
  return { rounds, durationMs };
}

async function start(mode: FloorMode): Promise<Running> {
  const receiver = mode === 'bare' ? undefined : await new CountingOtlpReceiver().start();
  const service = await startService({
    // The same heap flags as `npm start`, so the floor and CloudMart run alike.
    nodeArgs: [...startFlags(ROOT), ...TRACER[mode]],
    script: ['bench/floor/app.cjs'],
    readyPath: '/api/products',
    env: {
      OTEL_SERVICE_NAME: 'floor',
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver?.url ?? '',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    },
  });
  return { mode, service, receiver, sent: 0 };
}

async function slice(r: Running, durationMs: number, round: number): Promise<Slice> {
  const cpu0 = cpuMs(r.service.pid) ?? NaN;
  const load = await drive({ tool: 'wrk', url: r.service.url, endpoint: 'products', connections: 10, durationMs });
  const cpuUsPerRequest = (((cpuMs(r.service.pid) ?? NaN) - cpu0) * 1000) / Math.max(1, load.requests);
  r.sent += load.requests;
  return { round, mode: r.mode, load, cpuUsPerRequest };
}

async function main(): Promise<void> {
  const { rounds, durationMs } = argsOf(process.argv.slice(2));
  const running: Running[] = [];
  const slices: Slice[] = [];
  try {
    for (const mode of MODES) running.push(await start(mode));
    for (const r of running) r.sent += (await drive({ tool: 'wrk', url: r.service.url, endpoint: 'products', connections: 10, durationMs: 2000 })).requests;
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 ? running : [...running].reverse();
      for (const r of order) {
        const s = await slice(r, durationMs, round);
        slices.push(s);
        process.stderr.write(`round ${round} ${s.mode.padEnd(12)} ${s.load.rps.toFixed(0).padStart(6)} req/s  CPU ${s.cpuUsPerRequest.toFixed(0)} µs/req\n`);
      }
    }
  } finally {
    await Promise.all(running.map((r) => r.service.stop()));
  }
  await sleep(300);
  await Promise.all(running.flatMap((r) => (r.receiver ? [r.receiver.drain()] : [])));

  const bare = new Map(slices.filter((s) => s.mode === 'bare').map((s) => [s.round, s]));
  const lines = [
    '',
    `### Floor: minimal Express 5 app, GET /api/products from memory, 10 connections, ${durationMs / 1000} s × ${rounds} rounds, medians`,
    '',
    '| mode | req/s | × bare | p99 ms | CPU µs/req | µs/req over bare | spans/req |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of running) {
    const own = slices.filter((s) => s.mode === r.mode);
    const ratio = median(own.map((s) => s.load.rps / (bare.get(s.round)?.load.rps ?? NaN)));
    const over = median(own.map((s) => s.cpuUsPerRequest - (bare.get(s.round)?.cpuUsPerRequest ?? NaN)));
    const spans = r.receiver ? (r.receiver.tally.total / Math.max(1, r.sent)).toFixed(2) : '–';
    lines.push(
      `| ${r.mode} | ${median(own.map((s) => s.load.rps)).toFixed(0)} | ${ratio.toFixed(2)} | ${median(own.map((s) => s.load.p99Ms)).toFixed(2)} | ${median(own.map((s) => s.cpuUsPerRequest)).toFixed(0)} | ${r.mode === 'bare' ? '–' : over.toFixed(0)} | ${spans} |`,
    );
  }
  await Promise.all(running.flatMap((r) => (r.receiver ? [r.receiver.stop()] : [])));
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
