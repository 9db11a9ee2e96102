import type { Endpoint } from './args';
import type { EmbeddedRssResult } from './embedded';
import type { LoadResult } from './load';

/** One mode, one endpoint, one round. */
export interface RunResult {
  round: number;
  /** The mode, or mode@baseline for the baseline build (--baseline-dir). */
  mode: string;
  endpoint: Endpoint;
  load: LoadResult;
  warmupRequests: number;
  rssMaxMb: number;
  /** Service CPU (user + system, all threads) per measured request, µs: steadier than req/s on a busy machine. */
  cpuUsPerRequest: number;
  /** Spans received per request sent (warm-up included); null where no tracer runs. */
  spansPerRequest: number | null;
}

/** GET /metrics timings of one mode in one round, taken after the load. */
export interface MetricsTiming {
  round: number;
  mode: string;
  medianMs: number;
  p95Ms: number;
  bytes: number;
}

export interface LongRunResult {
  durationMs: number;
  rps: number;
  errors: number;
  requests: number;
  first10sMb: number;
  last10sMb: number;
  maxMb: number;
  samples: { atMs: number; mb: number }[];
  flat: boolean;
}

export interface Summary {
  mode: string;
  endpoint: Endpoint;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  rssMaxMb: number;
  cpuUsPerRequest: number;
  cpuRatio: number;
  spansPerRequest: number | null;
  errors: number;
  /** Medians of the per-round ratios to bare (paired within a round, so drift cancels). */
  rpsRatio: number;
  p99Ratio: number;
  /** The per-round ratios themselves, in round order: how far one run can be trusted. */
  rpsRatios: number[];
  p99Ratios: number[];
  metricsMs: number | null;
}

export interface Target {
  name: string;
  value: string;
  pass: boolean;
}

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

export function summarize(runs: RunResult[], timings: MetricsTiming[], modes: string[], endpoints: Endpoint[]): Summary[] {
  const out: Summary[] = [];
  for (const endpoint of endpoints) {
    const bare = new Map(runs.filter((r) => r.endpoint === endpoint && r.mode === 'bare').map((r) => [r.round, r]));
    for (const mode of modes) {
      const rs = runs.filter((r) => r.endpoint === endpoint && r.mode === mode);
      if (!rs.length) continue;
      const spans = rs.map((r) => r.spansPerRequest).filter((v): v is number => v !== null);
      const ts = timings.filter((t) => t.mode === mode).map((t) => t.medianMs);
      const rpsRatios = rs.map((r) => r.load.rps / (bare.get(r.round)?.load.rps ?? NaN));
      const p99Ratios = rs.map((r) => r.load.p99Ms / (bare.get(r.round)?.load.p99Ms ?? NaN));
      out.push({
        mode,
        endpoint,
        rps: median(rs.map((r) => r.load.rps)),
        p50Ms: median(rs.map((r) => r.load.p50Ms)),
        p99Ms: median(rs.map((r) => r.load.p99Ms)),
        rssMaxMb: median(rs.map((r) => r.rssMaxMb)),
        cpuUsPerRequest: median(rs.map((r) => r.cpuUsPerRequest)),
        cpuRatio: median(rs.map((r) => r.cpuUsPerRequest / (bare.get(r.round)?.cpuUsPerRequest ?? NaN))),
        spansPerRequest: spans.length ? median(spans) : null,
        errors: rs.reduce((n, r) => n + r.load.errors, 0),
        rpsRatio: median(rpsRatios),
        p99Ratio: median(p99Ratios),
        rpsRatios,
        p99Ratios,
        metricsMs: ts.length ? median(ts) : null,
      });
    }
  }
  return out;
}

/** One mode's build under test against the baseline build, paired round by round. */
export interface BuildComparison {
  mode: string;
  endpoint: Endpoint;
  /** Medians of the per-round ratios, this build / baseline (below 1: this build uses less CPU). */
  cpuRatio: number;
  rpsRatio: number;
  p99Ratio: number;
  /** Rounds in which this build used less CPU per request than the baseline, of `rounds`. */
  cpuLowerRounds: number;
  rounds: number;
}

/**
 * This build against the baseline, mode by mode: the ratios of adjacent slices of one round,
 * so the machine's drift cancels, as the ratios to bare do. CPU per request is the steadier
 * of the three on a shared machine.
 */
export function compareBuilds(runs: RunResult[], modes: string[], endpoints: Endpoint[]): BuildComparison[] {
  const out: BuildComparison[] = [];
  for (const endpoint of endpoints) {
    for (const mode of modes) {
      const base = new Map(runs.filter((r) => r.endpoint === endpoint && r.mode === `${mode}@baseline`).map((r) => [r.round, r]));
      const pairs = runs
        .filter((r) => r.endpoint === endpoint && r.mode === mode)
        .flatMap((r) => {
          const b = base.get(r.round);
          return b ? [[r, b] as const] : [];
        });
      if (!pairs.length) continue;
      const cpu = pairs.map(([r, b]) => r.cpuUsPerRequest / b.cpuUsPerRequest);
      out.push({
        mode,
        endpoint,
        cpuRatio: median(cpu),
        rpsRatio: median(pairs.map(([r, b]) => r.load.rps / b.load.rps)),
        p99Ratio: median(pairs.map(([r, b]) => r.load.p99Ms / b.load.p99Ms)),
        cpuLowerRounds: cpu.filter((x) => x < 1).length,
        rounds: pairs.length,
      });
    }
  }
  return out;
}

export function comparisonTable(rows: BuildComparison[]): string {
  return [
    '| endpoint | mode | CPU µs/req × baseline | rounds with less CPU | req/s × baseline | p99 × baseline |',
    '|---|---|---:|---:|---:|---:|',
    ...rows.map(
      (c) =>
        `| ${ENDPOINT_TITLE[c.endpoint]} | ${c.mode} | ${fmt(c.cpuRatio, 3)} | ${c.cpuLowerRounds} of ${c.rounds} | ${fmt(c.rpsRatio, 3)} | ${fmt(c.p99Ratio, 3)} |`,
    ),
  ].join('\n');
}

const fmt = (v: number | null, digits: number) => (v === null || Number.isNaN(v) ? '–' : v.toFixed(digits));

export const ENDPOINT_TITLE: Record<Endpoint, string> = {
  products: 'GET /api/products (cached)',
  orders: 'POST /api/orders',
};

export function markdownTable(summaries: Summary[], endpoint: Endpoint): string {
  const rows = summaries.filter((s) => s.endpoint === endpoint);
  return [
    '| mode | req/s | × bare | p50 ms | p99 ms | p99 × bare | RSS max MB | CPU µs/req | CPU × bare | spans/req | GET /metrics ms | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (s) =>
        `| ${s.mode} | ${fmt(s.rps, 0)} | ${fmt(s.rpsRatio, 2)} | ${fmt(s.p50Ms, 2)} | ${fmt(s.p99Ms, 2)} | ${fmt(s.p99Ratio, 2)} | ${fmt(s.rssMaxMb, 0)} | ${fmt(s.cpuUsPerRequest, 0)} | ${fmt(s.cpuRatio, 2)} | ${fmt(s.spansPerRequest, 2)} | ${endpoint === 'products' ? fmt(s.metricsMs, 2) : '–'} | ${s.errors} |`,
    ),
  ].join('\n');
}

/**
 * A ratio target judged on the median of the rounds, printed with the rounds' spread
 * and how many of them alone would pass: a median at the line with half the rounds
 * on each side reads differently from one with every round clear of it.
 */
function ratioTarget(name: string, median: number, perRound: number[], passes: (ratio: number) => boolean): Target {
  const valid = perRound.filter((r) => Number.isFinite(r));
  const spread =
    valid.length > 1
      ? `; rounds ${Math.min(...valid).toFixed(2)}–${Math.max(...valid).toFixed(2)}×, ${valid.filter(passes).length} of ${valid.length} passing`
      : '';
  return { name, value: `${median.toFixed(2)}×${spread}`, pass: passes(median) };
}

/** The issue's targets for full telemetry at 100 % sampling on the cached product list. */
export function evaluateTargets(summaries: Summary[], longRun: LongRunResult | undefined): Target[] {
  const full = summaries.find((s) => s.mode === 'full' && s.endpoint === 'products');
  const targets: Target[] = [];
  if (full) {
    targets.push(
      ratioTarget('full: throughput ≥ 0.5× bare', full.rpsRatio, full.rpsRatios, (r) => r >= 0.5),
      ratioTarget('full: p99 ≤ 2× bare', full.p99Ratio, full.p99Ratios, (r) => r <= 2),
      { name: 'full: RSS under load ≤ 150 MB', value: `${full.rssMaxMb.toFixed(0)} MB`, pass: full.rssMaxMb <= 150 },
    );
    if (full.metricsMs !== null) {
      targets.push({ name: 'full: GET /metrics < 10 ms', value: `${full.metricsMs.toFixed(2)} ms`, pass: full.metricsMs < 10 });
    }
  }
  if (longRun) {
    targets.push({
      name: 'OTLP down: RSS flat over the long run',
      value: `${longRun.first10sMb.toFixed(0)} → ${longRun.last10sMb.toFixed(0)} MB (first vs last 10 s), ${longRun.errors} errors`,
      pass: longRun.flat && longRun.errors === 0,
    });
  }
  return targets;
}

/** The issue's bounds on the embedded default's memory, for this build (not the baseline). */
export function embeddedTargets(results: EmbeddedRssResult[]): Target[] {
  const own = results.find((r) => r.build === '');
  if (!own) return [];
  return [
    { name: 'embedded: RSS idle ≤ 250 MB', value: `${own.idleMb.toFixed(0)} MB`, pass: own.idleMb <= 250 },
    {
      name: 'embedded: RSS under browse load ≤ 350 MB',
      value: `${own.loadMaxMb.toFixed(0)} MB max, ${own.errors} errors`,
      pass: own.loadMaxMb <= 350 && own.errors === 0,
    },
  ];
}

export function embeddedLine(r: EmbeddedRssResult): string {
  return `Embedded default${r.build ? ` (${r.build.slice(1)})` : ''}: started in ${r.startSeconds.toFixed(0)} s (RSS peak ${r.startPeakMb.toFixed(0)} MB); RSS idle ${r.idleMb.toFixed(0)} MB, browse load max ${r.loadMaxMb.toFixed(0)} MB (${r.rps.toFixed(0)} req/s, ${r.errors} errors), 10 s after ${r.afterMb.toFixed(0)} MB.`;
}

/**
 * Flat: the last 10 s average no more than max(10 MB, 10 %) above the first 10 s average.
 * An unbounded queue grows by tens of MB a minute at these rates; GC noise does not.
 */
export function longRunFrom(load: LoadResult, samples: { atMs: number; mb: number }[], durationMs: number): LongRunResult {
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const first = avg(samples.filter((s) => s.atMs <= 10_000).map((s) => s.mb));
  const last = avg(samples.filter((s) => s.atMs >= durationMs - 10_000).map((s) => s.mb));
  return {
    durationMs,
    rps: load.rps,
    errors: load.errors,
    requests: load.requests,
    first10sMb: first,
    last10sMb: last,
    maxMb: Math.max(...samples.map((s) => s.mb)),
    samples,
    flat: last - first <= Math.max(10, first * 0.1),
  };
}
