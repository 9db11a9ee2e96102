import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = path.resolve(__dirname, '..', '..');

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
export async function startServerProcess(env: Record<string, string>, opts: { register?: boolean; timeoutMs?: number } = {}): Promise<ServerProcess> {
  const args = [...(opts.register === false ? [] : ['--require', './dist/telemetry/register.js']), 'dist/server.js'];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', OTEL_SDK_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) => stderr.push(l));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not listen in time; stderr: ${stderr.join('\n')}`)), opts.timeoutMs ?? 30_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
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
