import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseBenchArgs as parseArgs, UsageError } from '../../bench/lib/args';
import type { LoadResult } from '../../bench/lib/load';
import { compareBuilds, comparisonTable, embeddedTargets, evaluateTargets, longRunFrom, summarize, type RunResult } from '../../bench/lib/report';

function load(rps: number, p99Ms: number): LoadResult {
  return { requests: rps * 2, durationMs: 2000, rps, p50Ms: p99Ms / 3, p99Ms, maxMs: p99Ms * 2, errors: 0 };
}

function run(round: number, mode: string, rps: number, p99Ms: number, cpu: number): RunResult {
  return {
    round,
    mode,
    endpoint: 'products',
    load: load(rps, p99Ms),
    warmupRequests: 0,
    rssMaxMb: 120,
    cpuUsPerRequest: cpu,
    spansPerRequest: mode.startsWith('full') ? 3 : null,
  };
}

describe('the benchmark report', () => {
  test('When the machine speeds up between rounds, then ratios are paired within a round and drift cancels', () => {
    // Round 2 runs everything twice as fast; full is half of bare in both.
    const runs = [
      run(1, 'bare', 4000, 5, 200),
      run(1, 'full', 2000, 10, 400),
      run(2, 'bare', 8000, 2.5, 100),
      run(2, 'full', 4000, 5, 200),
      run(3, 'bare', 6000, 4, 150),
      run(3, 'full', 3000, 8, 300),
    ];
    const [bare, full] = summarize(runs, [], ['bare', 'full'], ['products']);
    assert.ok(bare && full);
    assert.equal(bare.rpsRatio, 1);
    assert.equal(full.rpsRatio, 0.5);
    assert.equal(full.p99Ratio, 2);
    assert.equal(full.cpuRatio, 2);
    assert.equal(full.rps, 3000, 'absolute columns are plain medians');
    const targets = evaluateTargets([bare, { ...full, metricsMs: 1.5 }], undefined);
    assert.deepEqual(
      targets.map((t) => [t.name, t.pass]),
      [
        ['full: throughput ≥ 0.5× bare', true],
        ['full: p99 ≤ 2× bare', true],
        ['full: RSS under load ≤ 150 MB', true],
        ['full: GET /metrics < 10 ms', true],
      ],
    );
  });

  test("When a baseline build runs alongside, then its rows are labelled mode@baseline and compared with this build's bare", () => {
    const runs = [run(1, 'bare', 6000, 4, 150), run(1, 'full', 3000, 8, 300), run(1, 'full@baseline', 2000, 12, 450)];
    const rows = summarize(runs, [], ['bare', 'full', 'full@baseline'], ['products']);
    assert.deepEqual(
      rows.map((r) => [r.mode, r.rpsRatio]),
      [
        ['bare', 1],
        ['full', 0.5],
        ['full@baseline', 1 / 3],
      ],
    );
    assert.equal(evaluateTargets(rows, undefined)[0]?.value, '0.50×', 'targets judge this build, not the baseline');
  });

  test('When a baseline build runs alongside, then each mode is compared with its baseline round by round', () => {
    const runs = [
      run(1, 'full', 3000, 8, 300),
      run(1, 'full@baseline', 2000, 12, 400),
      run(2, 'full', 1000, 20, 900),
      run(2, 'full@baseline', 1000, 10, 600),
      run(3, 'full', 2000, 9, 380),
      run(3, 'full@baseline', 2500, 9, 400),
      run(1, 'bare', 6000, 4, 150),
    ];
    const [full, ...rest] = compareBuilds(runs, ['bare', 'full'], ['products']);
    assert.equal(rest.length, 0, 'bare has no baseline rows here, so no comparison');
    assert.equal(full?.mode, 'full');
    assert.equal(full.cpuRatio, 0.95, 'median of 0.75, 1.5 and 0.95');
    assert.equal(full.cpuLowerRounds, 2);
    assert.equal(full.rounds, 3);
    assert.equal(full.rpsRatio, 1);
    assert.match(comparisonTable([full]), /\| full \| 0\.950 \| 2 of 3 \| 1\.000 \|/);
  });

  test('When only --baseline-env is given, then the baseline is this build with that environment', () => {
    const o = parseArgs(['--baseline-env', 'CLOUDMART_TUNING=false'], true);
    assert.deepEqual(o.baselineEnv, { CLOUDMART_TUNING: 'false' });
    assert.equal(o.baselineDir, '.');
    assert.equal(parseArgs(['--baseline-env', 'A=1', '--baseline-dir', '../old'], true).baselineDir, '../old');
    assert.equal(parseArgs([], true).baselineDir, undefined);
    assert.throws(() => parseArgs(['--baseline-env', 'nope'], true), UsageError);
  });

  test('When only --baseline-node is given, then the baseline is this build on that Node.js', () => {
    const o = parseArgs(['--baseline-node', '24.22.3'], true);
    assert.equal(o.baselineNode, '24.22.3');
    assert.equal(o.baselineDir, '.');
    assert.throws(() => parseArgs(['--baseline-node', 'lts'], true), UsageError);
  });

  test('When the rounds disagree, then a ratio target prints their spread and how many pass, and still judges the median', () => {
    const runs = [
      [1, 0.42, 2.4],
      [2, 0.55, 1.8],
      [3, 0.51, 1.9],
      [4, 0.47, 2.2],
      [5, 0.6, 1.5],
    ].flatMap(([round = 0, ratio = 0, p99 = 0]) => [run(round, 'bare', 6000, 4, 150), run(round, 'full', 6000 * ratio, 4 * p99, 300)]);
    const [throughput, p99] = evaluateTargets(summarize(runs, [], ['bare', 'full'], ['products']), undefined);
    assert.deepEqual(throughput, { name: 'full: throughput ≥ 0.5× bare', value: '0.51×; rounds 0.42–0.60×, 3 of 5 passing', pass: true });
    assert.deepEqual(p99, { name: 'full: p99 ≤ 2× bare', value: '1.90×; rounds 1.50–2.40×, 3 of 5 passing', pass: true });
  });

  test('When RSS grows through the long run, then it is not flat; GC noise within 10 MB is', () => {
    const samples = (from: number, to: number) => Array.from({ length: 61 }, (_, i) => ({ atMs: i * 1000, mb: from + ((to - from) * i) / 60 }));
    assert.equal(longRunFrom(load(3000, 10), samples(126, 134), 60_000).flat, true);
    assert.equal(longRunFrom(load(3000, 10), samples(126, 170), 60_000).flat, false);
  });

  test('When the embedded default is measured for two builds, then only this build is judged against the memory bounds', () => {
    const e = { startSeconds: 10, startPeakMb: 500, afterMb: 210, rps: 50, errors: 0 };
    const targets = embeddedTargets([
      { ...e, build: '@baseline', idleMb: 450, loadMaxMb: 460 },
      { ...e, build: '', idleMb: 240, loadMaxMb: 360 },
    ]);
    assert.deepEqual(
      targets.map((t) => t.pass),
      [true, false],
    );
    assert.match(targets[1]?.value ?? '', /^360 MB max/);
    assert.deepEqual(embeddedTargets([]), []);
    assert.equal(parseArgs(['--embedded', '0'], true).embeddedMs, 0);
    assert.equal(parseArgs([], true).embeddedMs, 20_000);
  });

  test('When flags are given, then lists survive --service-env and bad values are usage errors', () => {
    const o = parseArgs(
      [
        '--service-env',
        'OTEL_NODE_DISABLED_INSTRUMENTATIONS=express,pg,A=1',
        '--service-env',
        'B=2',
        '--cpu-prof-modes',
        'bare,full',
        '--baseline-dir',
        '../old',
      ],
      true,
    );
    assert.deepEqual(o.serviceEnv, { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'express,pg', A: '1', B: '2' });
    assert.deepEqual(o.cpuProf, ['bare', 'full']);
    assert.equal(o.baselineDir, '../old');
    assert.deepEqual(parseArgs(['--cpu-prof'], true).cpuProf, ['full']);
    assert.deepEqual(parseArgs([], true).cpuProf, []);
    assert.throws(() => parseArgs(['--service-env', 'nope'], true), UsageError);
    assert.throws(() => parseArgs(['--cpu-prof-modes', 'fast'], true), UsageError);
    assert.throws(() => parseArgs(['--tool', 'wrk'], false), UsageError);
    assert.equal(parseArgs([], true).processes, 4);
    assert.equal(parseArgs(['--rounds', '9', '--processes', '3'], true).processes, 3);
    assert.throws(() => parseArgs(['--rounds', '2', '--processes=3'], true), UsageError);
    assert.equal(parseArgs(['--rounds', '2'], true).processes, 2, 'the default never exceeds the rounds');
  });

  test('When no modes are given, then the diagnostic unsampled mode is left out; asked for, it runs with bare', () => {
    assert.deepEqual(parseArgs([], true).modes, ['bare', 'metrics', 'metrics+logs', 'full-stock', 'full', 'elastic']);
    assert.deepEqual(parseArgs(['--modes', 'metrics+logs,unsampled,full'], true).modes, ['bare', 'metrics+logs', 'unsampled', 'full']);
  });
});
