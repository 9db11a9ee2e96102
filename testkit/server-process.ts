import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = path.resolve(__dirname, '..');

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** Every JSON line the process wrote to stdout so far. */
  logs: Record<string, unknown>[];
  stderr: string[];
  exit: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs the built service exactly as `npm start` does (register first, then
 * dist/server.js) on a free port, and resolves once it listens.
 */
/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface StartOptions {
  register?: boolean;
  timeoutMs?: number;
  /** For a process that logs nothing (LOG_LEVEL=silent): pick the port and poll this path until it answers. */
  readyPath?: string;
}

export async function startServerProcess(env: Record<string, string>, opts: StartOptions = {}): Promise<ServerProcess> {
  if (opts.readyPath) env = { ...env, PORT: env.PORT ?? String(await freePort()) };
  const args = [...(opts.register === false ? [] : ['--require', './dist/telemetry/register.js']), 'dist/server.js'];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', OTEL_SDK_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  // 'close', not 'exit': by then stdout has ended, so `logs` holds every line the process wrote.
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  createInterface({ input: child.stderr }).on('line', (l) => stderr.push(l));
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not listen in time; stderr: ${stderr.join('\n')}`)), opts.timeoutMs ?? 30_000);
    if (opts.readyPath) {
      const polled = Number(env.PORT);
      void (async () => {
        while (child.exitCode === null) {
          const ok = await fetch(`http://127.0.0.1:${polled}${opts.readyPath}`).then(
            (r) => r.ok,
            () => false,
          );
          if (ok) {
            clearTimeout(timer);
            resolve(polled);
            return;
          }
          await sleep(100);
        }
      })();
    }
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (typeof entry.port === 'number' && String(entry.msg).startsWith('listening')) {
          clearTimeout(timer);
          resolve(entry.port);
        }
      } catch {
        stderr.push(`(stdout, not JSON) ${line}`);
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening; stderr: ${stderr.join('\n')}`));
    });
  });
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    logs,
    stderr,
    exit,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exit;
    },
  };
}
