import { execFile, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT } from '../../testkit/server-process';
import { podman, podmanEnv } from './podman';
import { findTool } from './tools';
import { eventually } from './wait';
import { underCI } from './ci';

/**
 * Docker Compose itself, built from its pinned Go module by scripts/backends.sh into the
 * backend cache (a Docker CLI plugin binary that also runs standalone as docker-compose).
 */
export function composeBinary(): string | null {
  return findTool('docker-compose');
}

/** The compose binary, or null after skipping the test; under CI=true a missing one fails it. */
export function requireCompose(t: TestContext): string | null {
  const bin = composeBinary();
  if (bin) return bin;
  const message = 'docker-compose not found on PATH or in the backend cache (bash scripts/backends.sh compose)';
  if (underCI()) throw new Error(`${message}; CI requires it`);
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

/** compose() without blocking the event loop: the healthcheck harness must keep running meanwhile. */
export function composeAsync(bin: string, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ComposeRun> {
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      args,
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') reject(new Error(`${path.basename(bin)} ${args.join(' ')}: ${err.message}\n${stderr}`));
        else resolve({ status: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
  });
}

export interface PodmanApi {
  /** DOCKER_HOST for Compose: podman answering the Docker API on a socket of its own. */
  dockerHost: string;
  stop(): void;
}

/** `podman system service` on a socket in dir: the Docker API that Compose drives here. */
export async function startPodmanApi(dir: string): Promise<PodmanApi> {
  const socket = path.join(dir, 'podman.sock');
  const service = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], { env: podmanEnv(), stdio: 'ignore' });
  await eventually('the podman API socket', () => (fs.existsSync(socket) ? true : undefined), { timeoutMs: 20_000 });
  return {
    dockerHost: `unix://${socket}`,
    stop: () => {
      service.kill('SIGTERM');
    },
  };
}

export interface HealthcheckTimer {
  /** How many checks ran, and how many of them failed (a container still starting fails some). */
  readonly runs: () => { ran: number; failed: number };
  stop(): Promise<void>;
}

/**
 * What a container engine's scheduler does, and podman without systemd does not: runs each
 * healthcheck of the project's running containers, so `depends_on: service_healthy` and
 * `up --wait` see health change. A container not yet healthy is checked on every tick; a
 * healthy one every `healthyEveryMs`, as the Compose files' intervals would.
 */
export function startHealthcheckTimer(project: string, opts: { tickMs?: number; healthyEveryMs?: number } = {}): HealthcheckTimer {
  const tickMs = opts.tickMs ?? 2000;
  const healthyEveryMs = opts.healthyEveryMs ?? 10_000;
  const lastHealthy = new Map<string, number>();
  let ran = 0;
  let failed = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const listed = await podman(['ps', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.ID}}\t{{.Status}}']);
      for (const line of listed.stdout.split('\n').filter(Boolean)) {
        const [id = '', status = ''] = line.split('\t');
        if (!/\((starting|healthy|unhealthy)\)/.test(status)) continue; // no healthcheck defined
        const healthy = status.includes('(healthy)');
        if (healthy && Date.now() - (lastHealthy.get(id) ?? 0) < healthyEveryMs) continue;
        const r = await podman(['healthcheck', 'run', id], { timeoutMs: 30_000 });
        ran += 1;
        if (r.code === 0) lastHealthy.set(id, Date.now());
        else failed += 1;
        if (stopped) break;
      }
      await sleep(tickMs);
    }
  })();
  return {
    runs: () => ({ ran, failed }),
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
