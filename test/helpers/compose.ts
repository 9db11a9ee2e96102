import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { ROOT } from '../../testkit/server-process';
import { findTool } from './tools';

/**
 * Docker Compose itself, built from its pinned Go module by scripts/backends.sh into the
 * backend cache (a Docker CLI plugin binary that also runs standalone as docker-compose).
 */
export function composeBinary(): string | null {
  const onPath = findTool('docker-compose');
  if (onPath) return onPath;
  const pins = fs.readFileSync(path.join(ROOT, 'tools', 'versions.env'), 'utf8');
  const version = /^COMPOSE_VERSION=(\S+)$/m.exec(pins)?.[1];
  const cache = process.env.CLOUDMART_CACHE ?? path.join(os.homedir(), '.cache', 'cloudmart');
  const built = path.join(cache, 'go', `compose-${version}`, 'docker-compose');
  return version && fs.existsSync(built) ? built : null;
}

/** The compose binary, or null after skipping the test; under CI=true a missing one fails it. */
export function requireCompose(t: TestContext): string | null {
  const bin = composeBinary();
  if (bin) return bin;
  const message = 'docker-compose not found on PATH or in the backend cache (bash scripts/backends.sh compose)';
  if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires it`);
  t.skip(message);
  return null;
}

export interface ComposeRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs compose from the repo root with only PATH and HOME from this environment, so a
 * variable set in the shell cannot stand in for one compose/.env.example should give.
 */
export function compose(bin: string, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): ComposeRun {
  const r = spawnSync(bin, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
