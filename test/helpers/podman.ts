import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { ROOT } from '../../testkit/server-process';
import { requireTool } from './tools';
import { underCI } from './ci';

/**
 * The backend image built and run for real with podman (Debian's 4.3, as root, runc),
 * set up by scripts/image/env.sh: that script writes the containers.conf every podman
 * call here must share, so tests and scripts see the same engine settings.
 */
export const IMAGE_CACHE = path.join(process.env.CLOUDMART_CACHE ?? path.join(os.homedir(), '.cache', 'cloudmart'), 'image');
export const CONTAINERS_CONF = path.join(IMAGE_CACHE, 'containers.conf');
export const BACKEND_IMAGE = 'localhost/cloudmart/backend:test';
/** Compose's limit for the backend (compose/app.yaml mem_limit). */
export const MEMORY_LIMIT = '512m';

export const podmanEnv = (): NodeJS.ProcessEnv => ({ ...process.env, CONTAINERS_CONF });

/**
 * podman's path, or null after skipping the test: it is missing, or this is not root
 * (the base image needs debootstrap and chroot). Under CI=true either one fails the test.
 */
export function requirePodman(t: TestContext): string | null {
  const bin = requireTool('podman', t);
  if (!bin) return null;
  if (process.getuid?.() !== 0) {
    const message = 'the image tests build a Debian base with debootstrap and run podman as root; not root here';
    if (underCI()) throw new Error(`${message}; CI requires it`);
    t.skip(message);
    return null;
  }
  return bin;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** One podman command, asynchronously (the tests' receivers must keep answering meanwhile). */
export function podman(args: string[], opts: { timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile('podman', args, { env: podmanEnv(), timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like podman(), but a non-zero exit throws with what podman said. */
export async function podmanOk(args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const r = await podman(args, opts);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

export interface Built {
  tag: string;
  seconds: number;
  log: string;
}

/**
 * Builds the backend image with scripts/image/build.sh (local base first, when missing).
 * Cold: a Debian bootstrap and two npm ci, minutes; warm: podman's layer cache, seconds.
 */
export function buildBackendImage(): Built {
  const started = Date.now();
  const r = spawnSync('bash', ['scripts/image/build.sh'], {
    cwd: ROOT,
    env: { ...podmanEnv(), BACKEND_IMAGE },
    encoding: 'utf8',
    timeout: 40 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`scripts/image/build.sh exited ${r.status}:\n${r.stderr.split('\n').slice(-40).join('\n')}`);
  return { tag: r.stdout.trim().split('\n').at(-1) ?? BACKEND_IMAGE, seconds: (Date.now() - started) / 1000, log: r.stderr };
}

export interface Container {
  name: string;
  /** The container's stdout and stderr so far, as podman keeps them apart. */
  logs(): Promise<{ stdout: string; stderr: string }>;
  inspect<T>(format: string): Promise<T>;
  /** The host PID of the container's PID 1. */
  pid(): Promise<number>;
  remove(): Promise<void>;
}

/**
 * Starts the image detached on the host's network (so it reaches the CI's Postgres and
 * Redis and the tests' receivers on 127.0.0.1) under Compose's memory limit.
 */
export async function runContainer(image: string, env: Record<string, string>, extra: string[] = []): Promise<Container> {
  const name = `cloudmart-test-${process.pid}-${randomBytes(3).toString('hex')}`;
  const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  await podmanOk(['run', '-d', '--name', name, '--network', 'host', '--memory', MEMORY_LIMIT, ...envArgs, ...extra, image]);
  return {
    name,
    async logs() {
      const r = await podman(['logs', name]);
      return { stdout: r.stdout, stderr: r.stderr };
    },
    async inspect<T>(format: string) {
      return JSON.parse(await podmanOk(['inspect', '--format', `{{json ${format}}}`, name])) as T;
    },
    async pid() {
      return Number(await podmanOk(['inspect', '--format', '{{.State.Pid}}', name]));
    },
    async remove() {
      await podman(['rm', '-f', '-t', '0', name]);
    },
  };
}

/** A file of the container's memory cgroup (v1 memory controller, or the v2 unified one), by its PID 1. */
export function memoryCgroupFile(pid: number, v1Name: string, v2Name: string): string {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  if (v1) return path.join('/sys/fs/cgroup/memory', v1.slice(v1.lastIndexOf(':') + 1), v1Name);
  const v2 = lines.find((l) => l.startsWith('0::'));
  if (!v2) throw new Error(`no memory cgroup for pid ${pid}`);
  return path.join('/sys/fs/cgroup', v2.slice(3), v2Name);
}
