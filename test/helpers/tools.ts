import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { underCI } from './ci';

const repoRoot = path.resolve(__dirname, '../..');

/** Debian packages that provide the external tools the stack tests use and the project does not build. */
const DEBIAN_PACKAGE: Record<string, string> = {
  'prometheus-postgres-exporter': 'prometheus-postgres-exporter',
  'prometheus-redis-exporter': 'prometheus-redis-exporter',
  wrk: 'wrk',
  nginx: 'nginx-light',
  dnsmasq: 'dnsmasq-base',
};

/** tools/versions.env: every pinned version, KEY=value lines. */
export function pinnedVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(path.join(repoRoot, 'tools', 'versions.env'), 'utf8').split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(\S*)\s*$/.exec(line);
    if (m?.[1]) out[m[1]] = m[2] ?? '';
  }
  return out;
}

interface PinnedTool {
  /** The scripts/backends.sh build that holds the binary: its cache directory is <build>-<version>. */
  build: 'prometheus' | 'alertmanager' | 'jaeger' | 'otelcol';
  versionKey: string;
  versionArgs: string[];
}

/** The stack backends scripts/backends.sh builds from their pinned Go modules, the same releases Compose ships. */
const PINNED: Record<string, PinnedTool> = {
  prometheus: { build: 'prometheus', versionKey: 'PROMETHEUS_VERSION', versionArgs: ['--version'] },
  promtool: { build: 'prometheus', versionKey: 'PROMETHEUS_VERSION', versionArgs: ['--version'] },
  alertmanager: { build: 'alertmanager', versionKey: 'ALERTMANAGER_VERSION', versionArgs: ['--version'] },
  amtool: { build: 'alertmanager', versionKey: 'ALERTMANAGER_VERSION', versionArgs: ['--version'] },
  jaeger: { build: 'jaeger', versionKey: 'JAEGER_VERSION', versionArgs: ['version'] },
  otelcol: { build: 'otelcol', versionKey: 'OTELCOL_VERSION', versionArgs: ['--version'] },
};

/** The version a pinned tool must report, from tools/versions.env. */
export function pinnedVersion(name: string): string {
  const spec = PINNED[name];
  if (!spec) throw new Error(`${name} is not a pinned tool`);
  const version = pinnedVersions()[spec.versionKey];
  if (!version) throw new Error(`tools/versions.env has no ${spec.versionKey}`);
  return version;
}

/** Where scripts/backends.sh puts a pinned tool: ${CLOUDMART_CACHE:-~/.cache/cloudmart}/go/<build>-<version>. */
export function backendDir(name: string): string {
  const spec = PINNED[name];
  if (!spec) throw new Error(`${name} is not a pinned tool`);
  const cache = process.env.CLOUDMART_CACHE || path.join(os.homedir(), '.cache', 'cloudmart');
  return path.join(cache, 'go', `${spec.build}-${pinnedVersion(name)}`);
}

function executable(candidate: string): boolean {
  try {
    fs.accessSync(candidate, fs.constants.X_OK);
    return fs.statSync(candidate).isFile();
  } catch {
    return false;
  }
}

/** Other programs scripts/backends.sh builds from their pinned modules: tool -> its build and version key. */
const BUILT: Record<string, { build: string; versionKey: string }> = {
  helm: { build: 'helm', versionKey: 'HELM_VERSION' },
  'docker-compose': { build: 'compose', versionKey: 'COMPOSE_VERSION' },
};

/**
 * Absolute path of an executable, or null: a program scripts/backends.sh builds first from
 * its cache (so a developer who ran it needs no PATH change), then PATH.
 */
export function findTool(name: string): string | null {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  if (PINNED[name]) dirs.unshift(backendDir(name));
  const built = BUILT[name];
  if (built) {
    const cache = process.env.CLOUDMART_CACHE || path.join(os.homedir(), '.cache', 'cloudmart');
    dirs.unshift(path.join(cache, 'go', `${built.build}-${pinnedVersions()[built.versionKey] ?? ''}`));
  }
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (executable(candidate)) return candidate;
  }
  return null;
}

const versionSeen = new Map<string, string>();

/** What `<bin> --version` (or `jaeger version`) prints, once per binary. */
export function reportedVersion(name: string, bin: string): string {
  const spec = PINNED[name];
  if (!spec) throw new Error(`${name} is not a pinned tool`);
  let output = versionSeen.get(bin);
  if (output === undefined) {
    output = runTool(bin, spec.versionArgs, { timeoutMs: 20_000 }).output;
    versionSeen.set(bin, output);
  }
  return output;
}

function missing(message: string, t?: TestContext): null {
  if (underCI()) throw new Error(`${message}; CI requires it`);
  t?.skip(message);
  return null;
}

/**
 * The path of a required external tool.
 * A pinned backend (prometheus, promtool, alertmanager, amtool, jaeger) must also
 * report the version tools/versions.env pins, so an older distribution package on
 * PATH never stands in for the release Compose ships.
 * When it is missing or another version: under CI (CI=true) the test fails,
 * because CI must provide it; elsewhere the test is skipped with a message and
 * null is returned, so the caller just returns:
 *
 *   const promtool = requireTool('promtool', t);
 *   if (!promtool) return;
 */
export function requireTool(name: string, t?: TestContext): string | null {
  const found = findTool(name);
  if (PINNED[name]) {
    const want = pinnedVersion(name);
    const build = `scripts/backends.sh ${PINNED[name].build}`;
    if (!found) return missing(`${name} ${want} not found in ${backendDir(name)} or on PATH (run ${build})`, t);
    const reported = reportedVersion(name, found);
    // The exact release, not a prefix: 3.14.0 must not match 3.14.01 or 13.14.0.
    const exact = new RegExp(`(^|[^\\d.])v?${want.replaceAll('.', '\\.')}(?![\\d.]*\\d)`);
    if (!exact.test(reported)) {
      return missing(`${found} is not ${name} ${want} (it says: ${reported.split('\n')[0]}); run ${build}`, t);
    }
    return found;
  }
  if (found) return found;
  const pkg = DEBIAN_PACKAGE[name];
  return missing(`${name} not found on PATH${pkg ? ` (apt-get install -y ${pkg})` : ''}`, t);
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  output: string;
}

/** Run a tool synchronously (no shell) and capture its output. */
export function runTool(bin: string, args: string[], options: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {}): RunResult {
  const res = spawnSync(bin, args, {
    cwd: options.cwd,
    env: options.env ? { ...process.env, ...options.env } : undefined,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
  });
  if (res.error) throw res.error;
  const stdout = res.stdout ?? '';
  const stderr = res.stderr ?? '';
  return { status: res.status, stdout, stderr, output: `${stdout}\n${stderr}`.trim() };
}
