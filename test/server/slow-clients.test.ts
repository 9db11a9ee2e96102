import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';
import { startServerProcess, type ServerProcess } from '../../testkit/server-process';

const REQUEST_TIMEOUT_MS = 1500;
// Generous for a loaded machine, yet far below Node's own 60 s headers timeout.
const GIVE_UP_MS = 4 * REQUEST_TIMEOUT_MS;

interface Outcome {
  /** Whether the server closed the connection (false: the test gave up first). */
  closed: boolean;
  ms: number;
  text: string;
}

/**
 * Opens a connection, writes `head`, then one `drip` every 200 ms, as a slow client
 * does, until the server closes the connection or GIVE_UP_MS passes.
 */
function slowClient(port: number, head: string, drip?: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const dripping = drip === undefined ? undefined : setInterval(() => socket.write(drip), 200);
    const finish = (closed: boolean) => {
      clearInterval(dripping);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ closed, ms: Date.now() - started, text });
    };
    const giveUp = setTimeout(() => finish(false), GIVE_UP_MS);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    // A write after the server closed fails with EPIPE or ECONNRESET; the close follows.
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
    socket.write(head);
  });
}

describe('slow and oversized clients', () => {
  let database: TestDatabase;
  let server: ServerProcess;
  before(async () => {
    database = await createTestDatabase('slow');
    server = await startServerProcess({ DATABASE_URL: database.url, REDIS_URL, REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) });
  });
  after(async () => {
    await server.stop();
    await database.drop();
  });

  test('When the headers arrive slowly, then the server answers 408 and closes within REQUEST_TIMEOUT_MS', async () => {
    const r = await slowClient(server.port, 'GET /api/products HTTP/1.1\r\nHost: cloudmart\r\n', 'X-Slow: 1\r\n');
    assert.ok(r.closed, `still open after ${r.ms} ms`);
    assert.ok(r.ms >= REQUEST_TIMEOUT_MS - 100, `cut after ${r.ms} ms, before the timeout`);
    assert.match(r.text, /^HTTP\/1\.1 408 /);
    assert.match(r.text, /"code":"REQUEST_TIMEOUT"/);
  });

  test('When the body arrives slowly, then the server answers 408 and closes within REQUEST_TIMEOUT_MS', async () => {
    const head = 'POST /api/orders HTTP/1.1\r\nHost: cloudmart\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{';
    const r = await slowClient(server.port, head, ' ');
    assert.ok(r.closed, `still open after ${r.ms} ms`);
    assert.ok(r.ms >= REQUEST_TIMEOUT_MS - 100, `cut after ${r.ms} ms, before the timeout`);
    assert.match(r.text, /^HTTP\/1\.1 408 /);
    assert.match(r.text, /"code":"REQUEST_TIMEOUT"/);
  });

  test('When Content-Length announces a body over the limit, then 413 comes at once, without the body', async () => {
    const head = 'POST /api/orders HTTP/1.1\r\nHost: cloudmart\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n{"';
    const r = await slowClient(server.port, head);
    assert.match(r.text, /^HTTP\/1\.1 413 /, `answered after ${r.ms} ms: ${r.text}`);
    assert.match(r.text, /"code":"PAYLOAD_TOO_LARGE"/);
    assert.match(r.text, /\r\nconnection: close\r\n/i);
    assert.ok(r.closed, 'the connection closes, as the body is not read');
    assert.ok(r.ms < REQUEST_TIMEOUT_MS / 2, `answered after ${r.ms} ms`);
  });

  test('When a body within the limit arrives in time, then the order is placed', async () => {
    const res = await fetch(`${server.url}/api/orders`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ items: [{ productId: 2, quantity: 1 }], customerEmail: 'slow@example.com' }),
    });
    assert.equal(res.status, 201);
  });
});
