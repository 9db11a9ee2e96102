/**
 * Runs `npm run doctor`'s entry point as a child process, the way a student runs it
 * (tsx, repo root as working directory), with only the environment given.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { ROOT } from '../../testkit/server-process';

export interface DoctorRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runDoctor(args: string[], env: Record<string, string> = {}): Promise<DoctorRun> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/doctor/cli.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })));
}

/** The checklist line of one check: "[ok]", "[MISS]" or "[skip]" and its text. */
export function lineOf(stdout: string, component: string, check: string): { mark: string; text: string; fix?: string } | undefined {
  const lines = stdout.split('\n');
  let inComponent = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] ?? '';
    if (!l.startsWith(' ')) inComponent = l === component;
    if (!inComponent) continue;
    const m = /^ {2}\[(ok|MISS|skip)\]\s+(.*)$/.exec(l);
    if (!m || !(m[2] ?? '').startsWith(`${check} `)) continue;
    const next = lines[i + 1] ?? '';
    const fix = /^\s+fix: (.*)$/.exec(next)?.[1];
    return { mark: m[1] ?? '', text: (m[2] ?? '').slice(check.length).trim(), fix };
  }
  return undefined;
}

/** Stack traces look like "    at fn (file:line:col)"; the doctor must never print one. */
export function assertNoStackTrace(run: DoctorRun): void {
  const all = `${run.stdout}\n${run.stderr}`;
  assert.doesNotMatch(all, /^\s+at .+[:(]\d+/m, 'no stack frame in the output');
  assert.doesNotMatch(all, /\b(TypeError|ReferenceError|SyntaxError|Error):/, 'no error class in the output');
}
