import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { sql } from '../../testkit/postgres';
import { freePort } from '../../testkit/server-process';

/**
 * A Redis and a PostgreSQL of a test's own, for a test that stops them or needs a database
 * by its production name: the shared servers on 6379 and 5432 (scripts/services.sh) serve
 * every other test file and must stay up. Both are the same Debian packages.
 */

export interface OwnServer {
  port: number;
  url: string;
  /** Stops the server (Redis: SIGTERM, as an orchestrator does; PostgreSQL: its fast shutdown); its port and data stay for start(). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  remove(): Promise<void>;
}

async function until(what: string, ok: () => Promise<boolean>, child: Child, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok().catch(() => false))) {
    if (Date.now() > end) throw new Error(`${what} not ready in ${timeoutMs} ms:\n${child.output.join('\n')}`);
    await sleep(100);
  }
}

interface Child {
  exited: Promise<void>;
  kill(): void;
  output: string[];
}

/** `stopSignal`: what stops the server without waiting on its clients (PostgreSQL's SIGTERM waits for every session to end). */
function run(bin: string, args: string[], opts: { uid?: number; gid?: number } = {}, stopSignal: NodeJS.Signals = 'SIGTERM'): Child {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const output: string[] = [];
  const keep = (b: Buffer) => {
    output.push(...b.toString().split('\n').filter(Boolean));
    output.splice(0, output.length - 50);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('error', (err) => output.push(String(err)));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return { exited, kill: () => child.exitCode === null && child.signalCode === null && child.kill(stopSignal), output };
}

/** True when Redis on `port` answers PING (inline command, RESP reply). */
function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('data', (d) => {
      resolve(d.toString().startsWith('+PONG'));
      socket.end();
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/** redis-server on a free loopback port, nothing persisted. */
export async function startOwnRedis(): Promise<OwnServer> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: Child | undefined;
  const start = async () => {
    child = run('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    await until(`redis-server on ${port}`, () => redisPing(port), child);
  };
  const stop = async () => {
    child?.kill();
    await child?.exited;
  };
  await start();
  return { port, url, start, stop, remove: stop };
}

/** The newest PostgreSQL server binaries Debian installed (/usr/lib/postgresql/<version>/bin). */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const version = readdirSync(root)
    .sort((a, b) => Number(a) - Number(b))
    .at(-1);
  if (!version) throw new Error(`no PostgreSQL under ${root}`);
  return path.join(root, version, 'bin');
}

/**
 * A PostgreSQL cluster in a temporary directory on a free port (trust auth for `postgres` on
 * loopback), with `database` created in it. As root it runs as the postgres user, which
 * initdb and the server require.
 */
export async function startOwnPostgres(database: string): Promise<OwnServer> {
  const bin = postgresBin();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cloudmart-pg-'));
  const asUser: { uid?: number; gid?: number } = {};
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    asUser.uid = id('-u');
    asUser.gid = id('-g');
    chownSync(dir, asUser.uid, asUser.gid);
  }
  const data = path.join(dir, 'data');
  const init = spawnSync(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync'], { encoding: 'utf8', ...asUser });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/${database}`;
  let child: Child | undefined;
  const ping = async (db: string) => {
    const c = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/${db}` });
    await c.connect();
    await c.end();
    return true;
  };
  const start = async () => {
    child = run(
      path.join(bin, 'postgres'),
      ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off'],
      asUser,
      'SIGINT',
    );
    await until(`postgres on ${port}`, () => ping('postgres'), child);
  };
  const stop = async () => {
    child?.kill();
    await child?.exited;
  };
  await start();
  await sql(`postgres://postgres@127.0.0.1:${port}/postgres`, `CREATE DATABASE ${database}`);
  return {
    port,
    url,
    start,
    stop,
    async remove() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
