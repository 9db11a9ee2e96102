import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../../testkit/postgres';
import { ROOT, startServerProcess } from '../../testkit/server-process';
import { holdOrderUpload, requestsInFlight } from '../helpers/held-request';
import { eventually } from '../helpers/wait';

describe('the service process', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase('proc');
  });
  after(() => database.drop());

  test('When started on real Postgres and Redis, then its first lines name the backends and it serves', async () => {
    const server = await startServerProcess({ DATABASE_URL: database.url, REDIS_URL });
    try {
      assert.ok(server.logs.some((l) => l.database === 'postgres'));
      assert.ok(server.logs.some((l) => l.cache === 'redis'));
      const res = await fetch(`${server.url}/api/products?limit=1`);
      assert.equal(res.status, 200);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('When SIGTERM arrives mid-request, then the request completes, new connections are refused, and it exits 0', async () => {
    const server = await startServerProcess({ DATABASE_URL: database.url, REDIS_URL, SHUTDOWN_TIMEOUT_MS: '5000' });
    // A request whose body is still uploading when the signal arrives: genuinely in flight.
    const held = holdOrderUpload(server.url, { items: [{ productId: 9, quantity: 1 }], customerEmail: 'late@example.com' });
    await eventually('the order in flight', async () => ((await requestsInFlight(server.url)) >= 1 ? true : undefined));
    const started = Date.now();
    server.child.kill('SIGTERM');
    // Logged in the same tick as the server stops listening: from here on, no new connection is accepted.
    await eventually('the shutdown line', () => server.logs.find((l) => String(l.msg).startsWith('shutting down')));
    // A new TCP connection, not fetch: fetch would reuse the kept-alive connection of the
    // in-flight check above, which the drain answers (with Connection: close) for a moment.
    await assert.rejects(
      new Promise((resolve, reject) => net.connect(server.port, '127.0.0.1').once('connect', resolve).once('error', reject)),
      { code: 'ECONNREFUSED' },
      'no new connections once shutting down',
    );
    held.finish();
    const res = await held.answered;
    assert.equal(res.status, 201, res.body);
    assert.equal(await server.exit, 0);
    assert.ok(Date.now() - started < 5000);
    assert.ok(server.logs.some((l) => l.msg === 'shutdown complete'));
  });

  test('When a variable is invalid, then the process stops with a message naming it', () => {
    const r = spawnSync(process.execPath, ['dist/server.js'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /PORT:/);
  });

  test('When two replicas migrate a fresh database at once, then both start and migrations apply once', async () => {
    const fresh = await createTestDatabase('race');
    try {
      const [a, b] = await Promise.all([
        startServerProcess({ DATABASE_URL: fresh.url, REDIS_URL }),
        startServerProcess({ DATABASE_URL: fresh.url, REDIS_URL }),
      ]);
      const res = await fetch(`${b.url}/api/products?limit=100`);
      assert.equal(((await res.json()) as { page: { total: number } }).page.total, 50, 'seeded once, not twice');
      assert.deepEqual(await Promise.all([a.stop(), b.stop()]), [0, 0]);
    } finally {
      await fresh.drop();
    }
  });
});
