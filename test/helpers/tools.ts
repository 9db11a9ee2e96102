import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';

/** Debian packages that provide the external tools the stack tests use. */
const DEBIAN_PACKAGE: Record<string, string> = {
  promtool: 'prometheus',
  prometheus: 'prometheus',
  amtool: 'prometheus-alertmanager',
  alertmanager: 'prometheus-alertmanager',
  'prometheus-alertmanager': 'prometheus-alertmanager',
  'prometheus-postgres-exporter': 'prometheus-postgres-exporter',
  'prometheus-redis-exporter': 'prometheus-redis-exporter',
  wrk: 'wrk',
  nginx: 'nginx-light',
  dnsmasq: 'dnsmasq-base',
};

/** Absolute path of an executable on PATH, or null. */
export function findTool(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * The path of a required external tool.
 * When it is missing: under CI (CI=true) the test fails, because CI must
 * install it; elsewhere the test is skipped with a message and null is
 * returned, so the caller just returns:
 *
 *   const promtool = requireTool('promtool', t);
 *   if (!promtool) return;
 */
export function requireTool(name: string, t?: TestContext): string | null {
  const found = findTool(name);
  if (found) return found;
  const pkg = DEBIAN_PACKAGE[name];
  const message = `${name} not found on PATH${pkg ? ` (apt-get install -y ${pkg})` : ''}`;
  if (process.env.CI === 'true') {
    throw new Error(`${message}; CI=true requires it`);
  }
  t?.skip(message);
  return null;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  output: string;
}

/** Run a tool synchronously (no shell) and capture its output. */
export function runTool(bin: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): RunResult {
  const res = spawnSync(bin, args, {
    cwd: options.cwd,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
  });
  if (res.error) throw res.error;
  const stdout = res.stdout ?? '';
  const stderr = res.stderr ?? '';
  return { status: res.status, stdout, stderr, output: `${stdout}\n${stderr}`.trim() };
}
