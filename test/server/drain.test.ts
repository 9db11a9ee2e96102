/**
 * The drain on SIGTERM, connection by connection, on the built process with raw sockets so
 * the test decides when each byte goes: what nginx does in a rolling restart (a request
 * written to a connection the replica accepted just before the signal) and what a
 * keep-alive client does (another request on its open connection).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, REDIS_URL, sql, type TestDatabase } from '../../testkit/postgres';
import { startServerProcess, type ServerProcess } from '../../testkit/server-process';
import { eventually } from '../helpers/wait';

interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** An open TCP connection to the service that sends requests and reads their answers. */
class RawConnection {
  private received = '';
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (this.received += chunk));
    // A reset leaves `received` as it was: the response the test waits for never comes.
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => (this.ended = true));
  }

  static async open(port: number): Promise<RawConnection> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawConnection(socket);
  }

  /** Sends one request and resolves with its response, or fails if the connection closes first. */
  async request(method: string, path: string, body?: object): Promise<RawResponse> {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const head = [`${method} ${path} HTTP/1.1`, 'Host: localhost', 'Connection: keep-alive'];
    if (body !== undefined) head.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(payload)}`);
    this.received = '';
    this.socket.write(`${head.join('\r\n')}\r\n\r\n${payload}`);
    return eventually(`the answer to ${method} ${path}`, () => {
      const response = parse(this.received);
      if (!response && this.ended) throw new Error(`connection closed without an answer to ${method} ${path}`);
      return response;
    });
  }
}

/** One complete response with a Content-Length body, or undefined while it is still arriving. */
function parse(text: string): RawResponse | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  const body = text.slice(end + 4);
  if (Buffer.byteLength(body) < Number(headers.get('content-length') ?? 0)) return undefined;
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

describe('the drain on SIGTERM', () => {
  let database: TestDatabase;
  let server: ServerProcess | undefined;
  before(async () => {
    database = await createTestDatabase('drain');
  });
  after(async () => {
    await server?.stop('SIGKILL');
    await database.drop();
  });

  test('When connections are open at SIGTERM, then each request sent on them is answered with Connection: close, and it exits 0 before the deadline', async () => {
    server = await startServerProcess({ DATABASE_URL: database.url, REDIS_URL, SHUTDOWN_TIMEOUT_MS: '8000' });
    // Accepted, nothing sent yet: as a connection nginx opened just before the signal.
    const fresh = await RawConnection.open(server.port);
    // A keep-alive connection that has been answered once and sits idle.
    const keptAlive = await RawConnection.open(server.port);
    assert.equal((await keptAlive.request('GET', '/health/ready')).status, 200);
    // Never sends anything (a browser's preconnect): must not hold the shutdown up.
    const silent = await RawConnection.open(server.port);
    // Node accepts on its next turn; give it that before the signal.
    await sleep(200);

    server.child.kill('SIGTERM');
    await eventually('the shutdown line', () => server?.logs.find((l) => String(l.msg).startsWith('shutting down')));

    // An order without an Idempotency-Key: nginx does not replay it once written, so a
    // connection reset here would be a 502 for the customer.
    const email = `drain-${process.pid}@example.com`;
    const order = await fresh.request('POST', '/api/orders', { items: [{ productId: 11, quantity: 1 }], customerEmail: email });
    assert.equal(order.status, 201, order.body);
    assert.equal(order.headers.get('connection'), 'close');

    // Readiness said 503 from the first moment, so a load balancer that asks stops sending.
    const ready = await keptAlive.request('GET', '/health/ready');
    assert.equal(ready.status, 503);
    assert.equal(ready.headers.get('connection'), 'close');

    await Promise.all([fresh.closed, keptAlive.closed, silent.closed]);
    assert.equal(await server.exit, 0);
    assert.ok(server.logs.some((l) => l.msg === 'shutdown complete'));
    // The silent connection was closed after the grace (about a second), not at the deadline.
    assert.ok(!server.logs.some((l) => String(l.msg).startsWith('shutdown deadline passed')), 'the deadline never fired');
    const placed = await sql<{ n: string }>(database.url, 'SELECT count(*) AS n FROM orders WHERE customer_email = $1', [email]);
    assert.equal(Number(placed[0]?.n), 1, 'placed once');
  });
});
