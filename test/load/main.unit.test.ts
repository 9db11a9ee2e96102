/**
 * load/main.ts against a stand-in service (a plain HTTP server on loopback): what the
 * fault scenarios print and do when the chaos endpoint refuses them.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { main, type Io } from '../../load/main';

const TOKEN = 'load-test-chaos-token-0123';

/** A service with a catalog whose /api/admin/chaos answers every call with `chaosStatus`. */
async function standIn(chaosStatus: number): Promise<{ url: string; chaosCalls: string[]; close: () => Promise<void> }> {
  const chaosCalls: string[] = [];
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/api/admin/chaos')) {
      chaosCalls.push(req.method ?? '');
      res.writeHead(chaosStatus, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NOT_FOUND' } }));
      return;
    }
    if (req.url?.startsWith('/api/products')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [{ id: 1, category: 'books', name: 'Accelerate' }] }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, chaosCalls, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function captureIo(): { io: Io; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { io: { stdout: stdout as unknown as NodeJS.WriteStream, stderr: stderr as unknown as NodeJS.WriteStream, env: {} }, out: () => out, err: () => err };
}

for (const status of [404, 401, 403]) {
  test(`When the chaos endpoint answers ${status} to switching the fault on, then errors fails with that answer and does not try to switch a fault off`, async () => {
    const svc = await standIn(status);
    try {
      const { io, err } = captureIo();
      const code = await main(['errors', '--url', svc.url, '--token', TOKEN, '--duration', '1s'], io, new AbortController().signal);
      assert.equal(code, 1);
      assert.match(err(), new RegExp(`load errors failed: PUT \\S+/api/admin/chaos answered ${status}`));
      assert.doesNotMatch(err(), /could not switch the fault off|fault off|still on/);
      assert.deepEqual(svc.chaosCalls, ['PUT'], 'only the refused PUT, no DELETE');
    } finally {
      await svc.close();
    }
  });
}
