/**
 * npm test on a machine without Postgres or Redis stops before the build and the suite, with
 * one line naming what is missing and how to get it (test/preflight.ts, package.json's pretest).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { missingServicesMessage, missingTestServices } from '../helpers/services';
import { repoRoot } from '../helpers/stack';

/** A loopback port nothing listens on: one the kernel just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The check answers within its 3 s timeouts; a pretest that went on to the build is a failure, not a wait.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

test("npm test's pretest asks for Postgres and Redis first, before the build", () => {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.pretest ?? '', /^tsx test\/preflight\.ts && /);
});

test('Given neither Postgres nor Redis answers, when npm runs the pretest, then it stops with one line naming both, the script and the variables, and no trace', async () => {
  const [pgPort, redisPort] = [await closedPort(), await closedPort()];
  const env = {
    ...process.env,
    TEST_ADMIN_DATABASE_URL: `postgres://postgres:secret@127.0.0.1:${pgPort}/postgres`,
    TEST_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
  };
  const r = await run('npm', ['run', 'pretest'], env);
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/^npm (error|warn)\b/.test(l));
  assert.deepEqual(lines, [
    `npm test needs Postgres at postgres://postgres:***@127.0.0.1:${pgPort}/postgres (nothing listens there) and Redis at redis://127.0.0.1:${redisPort} (nothing listens there): ` +
      'start both with `bash scripts/services.sh` (Debian or Ubuntu, as root), or point TEST_ADMIN_DATABASE_URL and TEST_REDIS_URL at ones that run',
  ]);
  const all = `${r.stdout}\n${r.stderr}`;
  assert.doesNotMatch(all, /ECONNREFUSED|secret/);
  assert.doesNotMatch(all, /^\s+at .+[:(]\d+/m, 'no stack frame');
  assert.doesNotMatch(all, /> tsc /, 'the build did not start');
});

test('Given the Postgres and Redis of this run, then nothing is missing; with Redis gone, only Redis and its variable are named', async () => {
  assert.deepEqual(
    await missingTestServices(),
    [],
    'the suite runs against the Postgres and Redis of TEST_ADMIN_DATABASE_URL / TEST_REDIS_URL (default 127.0.0.1)',
  );
  const redisPort = await closedPort();
  const missing = await missingTestServices({ redisUrl: `redis://127.0.0.1:${redisPort}` });
  assert.deepEqual(missing, [{ what: 'Redis', url: `redis://127.0.0.1:${redisPort}`, variable: 'TEST_REDIS_URL', why: 'nothing listens there' }]);
  assert.equal(
    missingServicesMessage(missing),
    `npm test needs Redis at redis://127.0.0.1:${redisPort} (nothing listens there): start it with \`bash scripts/services.sh\` (Debian or Ubuntu, as root), or point TEST_REDIS_URL at one that runs`,
  );
});
