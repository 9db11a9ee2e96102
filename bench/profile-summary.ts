/**
 * Summarizes V8 .cpuprofile files (node --cpu-prof): where the CPU went, by self time,
 * per function and per package or source file. Idle time is left out of the shares.
 *
 *   npx tsx bench/profile-summary.ts bench/results/profiles/*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  ms: number;
  /** Share of busy (non-idle) time, 0..1. */
  share: number;
}

export interface ProfileSummary {
  file: string;
  busyMs: number;
  idleMs: number;
  functions: ProfileEntry[];
  modules: ProfileEntry[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** "node_modules/@opentelemetry/sdk-trace/..." → "@opentelemetry/sdk-trace"; app files stay files. */
export function moduleOf(url: string, functionName: string): string {
  if (!url) return SPECIAL.has(functionName) ? functionName : '(native)';
  const clean = url.replace(/^file:\/\//, '');
  const nm = clean.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = clean.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? clean);
  }
  if (clean.startsWith('node:')) return clean.split('/').slice(0, 2).join('/');
  const dist = clean.indexOf('/dist/');
  return dist >= 0 ? clean.slice(dist + 1) : path.basename(clean);
}

function ranked(map: Map<string, number>, busyMs: number, top: number): ProfileEntry[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, ms, share: busyMs ? ms / busyMs : 0 }));
}

export function summarizeProfile(file: string, top = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  let idleMs = 0;
  let busyMs = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleMs += ms;
      return;
    }
    busyMs += ms;
    const m = moduleOf(url, functionName);
    const where = url ? `${m}${m.endsWith('.js') ? '' : ` ${path.basename(url)}`}:${lineNumber + 1}` : m;
    const key = `${functionName || '(anonymous)'} ${where}`;
    fn.set(key, (fn.get(key) ?? 0) + ms);
    mod.set(m, (mod.get(m) ?? 0) + ms);
  });
  return { file, busyMs, idleMs, functions: ranked(fn, busyMs, top), modules: ranked(mod, busyMs, top) };
}

export function formatSummary(s: ProfileSummary): string {
  const pct = (e: ProfileEntry) => `${(e.share * 100).toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(6)} ms  ${e.name}`;
  return [
    `${path.basename(s.file)}: busy ${(s.busyMs / 1000).toFixed(1)} s, idle ${(s.idleMs / 1000).toFixed(1)} s`,
    '  top self time by package / file:',
    ...s.modules.map((e) => `    ${pct(e)}`),
    '  top self time by function:',
    ...s.functions.map((e) => `    ${pct(e)}`),
  ].join('\n');
}

function main(argv: string[]): void {
  let top = 25;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--top') top = Number(argv[++i]);
    else files.push(argv[i] ?? '');
  }
  if (!files.length) {
    process.stderr.write('usage: tsx bench/profile-summary.ts <file.cpuprofile>... [--top N]\n');
    process.exit(2);
  }
  for (const f of files) process.stdout.write(`${formatSummary(summarizeProfile(f, top))}\n\n`);
}

if (require.main === module) main(process.argv.slice(2));
