import type { Result } from 'autocannon';
import type { ChaosFaultsInput } from '../src/chaos/faults';
import type { Scenario } from './scenarios';

export interface Summary {
  scenario: string;
  url: string;
  connections: number;
  rate: number | null;
  durationSeconds: number;
  /** True when Ctrl-C (or SIGTERM) ended the run early. */
  interrupted: boolean;
  requests: { completed: number; perSecond: number };
  latencyMs: { average: number; p50: number; p90: number; p99: number; max: number };
  statusCodes: Record<string, number>;
  /** Non-2xx answers that are normal for the scenario (409 out of stock in checkout). */
  expected: Record<string, number>;
  errors: { serverErrors: number; unexpectedClientErrors: number; connectionErrors: number; timeouts: number };
  fault: { requested: ChaosFaultsInput; switchedOn: boolean; cleared: boolean } | null;
}

export function summarize(result: Result, scenario: Scenario, run: { url: string; rate?: number; interrupted: boolean; fault: Summary['fault'] }): Summary {
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  const expected: Record<string, number> = {};
  let serverErrors = 0;
  let unexpectedClientErrors = 0;
  for (const [code, n] of Object.entries(statusCodes)) {
    const status = Number(code);
    if (status in scenario.expected) expected[code] = n;
    else if (status >= 500) serverErrors += n;
    else if (status >= 400) unexpectedClientErrors += n;
  }
  return {
    scenario: scenario.name,
    url: run.url,
    connections: result.connections,
    rate: run.rate ?? null,
    durationSeconds: result.duration,
    interrupted: run.interrupted,
    requests: { completed: result.requests.total, perSecond: round(result.requests.total / Math.max(result.duration, 0.001)) },
    latencyMs: {
      average: round(result.latency.average),
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    statusCodes,
    expected,
    errors: { serverErrors, unexpectedClientErrors, connectionErrors: result.errors, timeouts: result.timeouts },
    fault: run.fault,
  };
}

const round = (n: number) => Math.round(n * 10) / 10;
const num = (n: number) => n.toLocaleString('en');

export function formatSummary(s: Summary, scenario: Scenario): string {
  const codes = Object.entries(s.statusCodes)
    .map(([code, n]) => `${code}: ${num(n)}`)
    .join('  ');
  const lines = [
    '',
    `Summary: ${s.scenario} against ${s.url}, ${s.durationSeconds}s, ${s.connections} connections${s.rate ? `, ${s.rate} req/s target` : ''}${s.interrupted ? ' (interrupted)' : ''}`,
    `  requests   ${num(s.requests.completed)} completed, ${num(s.requests.perSecond)} req/s`,
    `  latency    p50 ${s.latencyMs.p50} ms   p90 ${s.latencyMs.p90} ms   p99 ${s.latencyMs.p99} ms   max ${s.latencyMs.max} ms`,
    `  status     ${codes || 'none'}`,
  ];
  for (const [code, n] of Object.entries(s.expected)) lines.push(`  expected   ${num(n)} × ${code} ${scenario.expected[Number(code)] ?? ''}`.trimEnd());
  const e = s.errors;
  lines.push(
    `  errors     ${num(e.serverErrors)} 5xx, ${num(e.unexpectedClientErrors)} unexpected 4xx, ${num(e.connectionErrors)} connection errors (${num(e.timeouts)} timeouts)`,
  );
  if (s.fault) {
    const state = s.fault.cleared ? 'switched off again' : 'MAY STILL BE ON';
    lines.push(`  fault      ${JSON.stringify(s.fault.requested)} ${s.fault.switchedOn ? `was on during the run, ${state}` : 'was not switched on'}`);
  }
  return `${lines.join('\n')}\n`;
}
