import { spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import YAML from 'yaml';
import { removingDirOnStop, shippedPrometheusConfig, startManaged, type ManagedProcess } from './monitoring';
import { freePort } from '../../testkit/server-process';
import { dockerDir } from './stack';
import { findTool } from './tools';

/**
 * The replica tests' engines, each run with the project's own configuration file:
 * dnsmasq standing in for Docker's embedded DNS, nginx (docker/nginx/nginx.conf) and
 * Prometheus (docker/prometheus/prometheus.yml). Only addresses, paths and intervals
 * are templated; every replacement must match, so a renamed line fails loudly.
 */

function replaceOnce(text: string, from: string | RegExp, to: string, what: string): string {
  const matches =
    typeof from === 'string' ? text.split(from).length - 1 : (text.match(new RegExp(from.source, `${from.flags.replace('g', '')}g`)) ?? []).length;
  if (matches !== 1) throw new Error(`${what}: expected exactly one match of ${String(from)}, found ${matches}`);
  return text.replace(from, to);
}

function tempDir(label: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `cloudmart-${label}-`));
}

/** What the replica tests need beyond Node: root (mount namespaces, port 53), nginx, dnsmasq, unshare, Prometheus. */
export function missingScaleRequirements(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (a mount namespace for Prometheus, dnsmasq on port 53)');
  for (const tool of ['nginx', 'dnsmasq', 'unshare', 'mount', 'prometheus']) if (!findTool(tool)) missing.push(tool);
  return missing;
}

/**
 * A loopback address of its own for the DNS server: port 53 is fixed (resolv.conf
 * cannot name another), so a random 127.53.x.y keeps parallel runs apart.
 */
export function randomLoopbackAddress(): string {
  return `127.53.${1 + Math.floor(Math.random() * 254)}.${1 + Math.floor(Math.random() * 254)}`;
}

export interface DnsServer {
  address: string;
  stop(): Promise<void>;
}

/**
 * dnsmasq answering `name` with one A record per address, as Docker's embedded DNS
 * answers a Compose service with one record per running replica. TTL 0, so every
 * lookup sees the current list.
 */
export async function startDnsmasq(bin: string, address: string, name: string, addresses: string[]): Promise<DnsServer> {
  const dir = tempDir('dnsmasq');
  const hosts = path.join(dir, 'hosts');
  writeFileSync(hosts, addresses.map((a) => `${a} ${name}\n`).join(''));
  const child = spawn(
    bin,
    [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      `--addn-hosts=${hosts}`,
      `--listen-address=${address}`,
      '--bind-interfaces',
      '--port=53',
      '--pid-file=',
      '--user=root',
      '--log-facility=-',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  child.stdout.on('data', (b: Buffer) => output.push(b.toString()));
  child.stderr.on('data', (b: Buffer) => output.push(b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([address]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dnsmasq exited with ${child.exitCode}: ${output.join('')}`);
    const answer = await resolver.resolve4(name).catch(() => []);
    if (answer.length === addresses.length) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`dnsmasq did not answer ${name} in time: ${output.join('')}`);
    }
    await sleep(100);
  }
  return {
    address,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** docker/nginx/nginx.conf with only its addresses changed (resolver, backend name:port, listen port) and its log path. */
export function testNginxConfig(opts: { listen: string; resolver: string; backend: string; accessLog: string }): string {
  let text = readFileSync(path.join(dockerDir, 'nginx', 'nginx.conf'), 'utf8');
  text = replaceOnce(text, 'access_log /var/log/nginx/access.log ', `access_log ${opts.accessLog} `, 'nginx access log');
  text = replaceOnce(text, /resolver \$\{NGINX_LOCAL_RESOLVERS\} /, `resolver ${opts.resolver} `, 'nginx resolver');
  text = replaceOnce(text, 'default backend:3000;', `default ${opts.backend};`, 'nginx backend');
  text = replaceOnce(text, /listen 3000;/, `listen ${opts.listen};`, 'nginx listen');
  return text;
}

export interface Nginx extends ManagedProcess {
  /** The JSON access log lines written so far. */
  accessLog(): Array<Record<string, unknown>>;
}

/** nginx (master and workers, as in the image) on 127.0.0.1, with the project's config. */
export async function startNginx(bin: string, opts: { resolver: string; backend: string }): Promise<Nginx> {
  const dir = tempDir('nginx');
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  const log = path.join(dir, 'access.log');
  writeFileSync(conf, testNginxConfig({ listen: `127.0.0.1:${port}`, resolver: opts.resolver, backend: opts.backend, accessLog: log }));
  const p = await startManaged(bin, ['-p', dir, '-c', conf, '-e', 'stderr', '-g', `daemon off; pid ${path.join(dir, 'nginx.pid')};`], port, '/lb-health');
  return {
    ...p,
    accessLog: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: async () => {
      await p.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Yaml = Record<string, unknown>;

/**
 * docker/prometheus/prometheus.yml reduced to the backend job exactly as shipped (its
 * DNS service discovery untouched), the rule files copied byte for byte; changed are
 * paths, the file_sd path and the intervals.
 */
export function testScalePrometheusConfig(rulesDir: string, fileSdPath: string, port: number, interval: { scrape: string; evaluation: string }): string {
  const config = shippedPrometheusConfig(rulesDir, interval);
  delete config.alerting;
  const backend = (config.scrape_configs as Yaml[]).find((j) => j.job_name === 'backend');
  if (!backend) throw new Error('prometheus.yml has no backend job');
  backend.scrape_interval = interval.scrape;
  backend.scrape_timeout = interval.scrape;
  const fileSd = backend.file_sd_configs as Array<{ files: string[] }>;
  if (fileSd.length !== 1 || fileSd[0]?.files.length !== 1) throw new Error('backend job: one file_sd file expected');
  fileSd[0].files = [fileSdPath];
  // The port is part of the address: replicas of one test run share one free port.
  const dnsSd = backend.dns_sd_configs as Array<{ names: string[]; port: number }>;
  if (dnsSd.length !== 1 || dnsSd[0]?.port !== 3000) throw new Error('backend job: one dns_sd_configs entry on port 3000 expected');
  dnsSd[0].port = port;
  config.scrape_configs = [backend];
  return YAML.stringify(config);
}

/**
 * Prometheus in a mount namespace of its own whose /etc/resolv.conf names the test's
 * DNS server: DNS service discovery reads only resolv.conf, and a private mount keeps
 * the rest of the machine on its own resolver while Prometheus shares the host's
 * loopback with the replicas and Postgres.
 */
export async function startPrometheusWithResolver(
  bin: string,
  nameserver: string,
  backendPort: number,
  interval: { scrape: string; evaluation: string } = { scrape: '1s', evaluation: '1s' },
): Promise<ManagedProcess> {
  const dir = tempDir('prometheus-scale');
  const rulesDir = path.join(dir, 'rules');
  mkdirSync(rulesDir);
  cpSync(path.join(dockerDir, 'prometheus', 'rules'), rulesDir, { recursive: true });
  const fileSd = path.join(dir, 'backend.yml');
  // One host: the multi-host list is empty, exactly as compose/monitoring.yaml renders it unset.
  writeFileSync(fileSd, '- targets: []\n');
  const resolvConf = path.join(dir, 'resolv.conf');
  writeFileSync(resolvConf, `nameserver ${nameserver}\noptions timeout:1 attempts:1\n`);
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(configFile, testScalePrometheusConfig(rulesDir, fileSd, backendPort, interval));
  const port = await freePort();
  const unshare = findTool('unshare');
  if (!unshare) throw new Error('unshare not found');
  const p = await startManaged(
    unshare,
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount --bind "$0" /etc/resolv.conf && exec "$@"',
      resolvConf,
      bin,
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    port,
    '/-/ready',
  );
  return removingDirOnStop(p, dir);
}
