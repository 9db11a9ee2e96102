import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { sampleFrom } from '../helpers/metrics-text';
import { createTestDatabase, REDIS_URL, sql, type TestDatabase } from '../../testkit/postgres';
import { startServerProcess, type ServerProcess } from '../../testkit/server-process';
import { AppError } from '../../src/domain/errors';
import { clientErrorResponse } from '../../src/http/client-error';

function assertErrorBody(body: unknown, code: string): void {
  const b = body as { error?: { code?: unknown; message?: unknown } };
  assert.equal(b.error?.code, code);
  assert.equal(typeof b.error?.message, 'string');
  assert.doesNotMatch(JSON.stringify(body), /at \S+ \(|node_modules|\.ts:\d+/, 'no stack trace in a response');
}

describe('bad input to POST /api/orders', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  const email = 'a@b.co';
  const cases: [string, unknown, number, string][] = [
    ['missing items', { customerEmail: email }, 400, 'VALIDATION_FAILED'],
    ['empty items', { items: [], customerEmail: email }, 400, 'VALIDATION_FAILED'],
    ['items not an array', { items: 'lots', customerEmail: email }, 400, 'VALIDATION_FAILED'],
    ['productId as a string', { items: [{ productId: '1', quantity: 1 }], customerEmail: email }, 400, 'VALIDATION_FAILED'],
    ['quantity zero', { items: [{ productId: 1, quantity: 0 }], customerEmail: email }, 400, 'VALIDATION_FAILED'],
    ['quantity negative', { items: [{ productId: 1, quantity: -2 }], customerEmail: email }, 400, 'VALIDATION_FAILED'],
    ['quantity fractional', { items: [{ productId: 1, quantity: 1.5 }], customerEmail: email }, 400, 'VALIDATION_FAILED'],
    ['quantity absurd', { items: [{ productId: 1, quantity: 1e12 }], customerEmail: email }, 400, 'VALIDATION_FAILED'],
    [
      'summed quantity absurd',
      {
        items: [
          { productId: 1, quantity: 1000 },
          { productId: 1, quantity: 1000 },
        ],
        customerEmail: email,
      },
      400,
      'VALIDATION_FAILED',
    ],
    ['missing email', { items: [{ productId: 1, quantity: 1 }] }, 400, 'VALIDATION_FAILED'],
    ['bad email', { items: [{ productId: 1, quantity: 1 }], customerEmail: 'not-an-email' }, 400, 'VALIDATION_FAILED'],
    ['unknown field', { items: [{ productId: 1, quantity: 1 }], customerEmail: email, discount: 100 }, 400, 'VALIDATION_FAILED'],
    ['a JSON array', [1, 2, 3], 400, 'VALIDATION_FAILED'],
    ['unknown product', { items: [{ productId: 987654, quantity: 1 }], customerEmail: email }, 422, 'UNKNOWN_PRODUCT'],
  ];

  for (const [name, body, status, code] of cases) {
    test(`When the body has ${name}, then ${status} ${code} and nothing is written`, async () => {
      const res = await request(t.app)
        .post('/api/orders')
        .send(body as object)
        .expect(status);
      assertErrorBody(res.body, code);
      const n = await sql<{ n: number }>(t.database?.url ?? '', 'SELECT count(*)::int AS n FROM orders');
      assert.equal(n[0]?.n, 0);
    });
  }

  test('When the JSON is malformed, then 400 INVALID_JSON', async () => {
    const res = await request(t.app).post('/api/orders').set('Content-Type', 'application/json').send('{"items": [').expect(400);
    assertErrorBody(res.body, 'INVALID_JSON');
  });

  test('When the content type is not JSON, then 415', async () => {
    const res = await request(t.app).post('/api/orders').set('Content-Type', 'text/plain').send('items=1').expect(415);
    assertErrorBody(res.body, 'UNSUPPORTED_MEDIA_TYPE');
    const form = await request(t.app).post('/api/orders').type('form').send({ items: '1' }).expect(415);
    assertErrorBody(form.body, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('When the body is over 100 kB, then 413', async () => {
    const big = { items: [{ productId: 1, quantity: 1 }], customerEmail: email, pad: 'x'.repeat(110 * 1024) };
    const res = await request(t.app).post('/api/orders').send(big).expect(413);
    assertErrorBody(res.body, 'PAYLOAD_TOO_LARGE');
  });

  test('When the route does not exist, then 404 JSON', async () => {
    const res = await request(t.app).get('/api/nope/../etc').expect(404);
    assertErrorBody(res.body, 'ROUTE_NOT_FOUND');
    const del = await request(t.app).delete('/api/products/1').expect(404);
    assertErrorBody(del.body, 'ROUTE_NOT_FOUND');
  });

  test('When bad input is refused, then the failure is counted by reason', async () => {
    const failed = async (reason: string) =>
      sampleFrom((await request(t.app).get('/metrics').expect(200)).text, 'cloudmart_orders_failed_total', { reason }) ?? 0;
    const before = { validation: await failed('validation_failed'), unknown: await failed('unknown_product') };
    await request(t.app).post('/api/orders').send({ items: [], customerEmail: email }).expect(400);
    await request(t.app)
      .post('/api/orders')
      .send({ items: [{ productId: 987654, quantity: 1 }], customerEmail: email })
      .expect(422);
    assert.equal(await failed('validation_failed'), before.validation + 1, 'one validation failure counted');
    assert.equal(await failed('unknown_product'), before.unknown + 1, 'one unknown product counted');
  });
});

/** Rows every write path of the API adds to; bad input must leave all of them as they were. */
async function writtenRows(t: TestApp): Promise<Record<string, number>> {
  const rows = await sql<Record<string, number>>(
    t.database?.url ?? '',
    `SELECT (SELECT count(*)::int FROM orders) AS orders,
            (SELECT count(*)::int FROM dora_deployments) AS deployments,
            (SELECT count(*)::int FROM dora_incidents) AS incidents,
            (SELECT count(*)::int FROM dora_commits) AS commits`,
  );
  return rows[0] ?? {};
}

describe('client input that reached a 500', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  const order = Buffer.from(JSON.stringify({ items: [{ productId: 1, quantity: 1 }], customerEmail: 'a@b.co' }));
  const compress: Record<string, (b: Buffer) => Buffer> = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync };

  // Written as is: supertest would serialize a Buffer sent as JSON into an object.
  const postEncoded = (encoding: string, body: Buffer) => {
    const req = request(t.app).post('/api/orders').set('Content-Type', 'application/json').set('Content-Encoding', encoding);
    req.write(body);
    return req;
  };

  for (const [encoding, fn] of Object.entries(compress)) {
    test(`When a ${encoding} body is corrupt or cut short, then 400 JSON and nothing is written`, async () => {
      const before = await writtenRows(t);
      for (const body of [Buffer.from('this is not compressed at all'), fn(order).subarray(0, 20)]) {
        const res = await postEncoded(encoding, body).expect('Content-Type', /json/).expect(400);
        assertErrorBody(res.body, 'BAD_REQUEST');
      }
      assert.deepEqual(await writtenRows(t), before);
      // The same body whole is accepted, so the 400s above are about the corruption.
      await postEncoded(encoding, fn(order)).expect(201);
    });
  }

  for (const path of ['/api/products/%zz', '/api/products/%E0%A4%A', '/api/orders/%zz', '/api/orders/%E0%A4%A/cancel']) {
    test(`When a path parameter is malformed percent-encoding (${path}), then 400 INVALID_PATH`, async () => {
      const before = await writtenRows(t);
      const res = await (path.endsWith('/cancel') ? request(t.app).post(path) : request(t.app).get(path)).expect(400);
      assertErrorBody(res.body, 'INVALID_PATH');
      assert.deepEqual(await writtenRows(t), before);
    });
  }

  for (const query of ['q=a%00b', 'category=%00', 'q=coffee&category=bo%00oks']) {
    test(`When a product query has a NUL byte (${query}), then 400 VALIDATION_FAILED`, async () => {
      const res = await request(t.app).get(`/api/products?${query}`).expect(400);
      assertErrorBody(res.body, 'VALIDATION_FAILED');
      assert.match(JSON.stringify(res.body), /NUL/);
    });
  }

  test('When a DORA webhook or deployment carries a NUL byte in any text, then 400 VALIDATION_FAILED and nothing is written', async () => {
    const before = await writtenRows(t);
    const sha = 'a'.repeat(40);
    const repository = { name: 'cloudmart', full_name: 'course/cloudmart' };
    const alert = (labels: Record<string, string>, annotations: Record<string, string> = {}) => ({
      version: '4',
      status: 'firing',
      receiver: 'dora',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'HTTPErrorRate', severity: 'critical', ...labels },
          annotations,
          startsAt: '2026-02-10T08:00:00Z',
          endsAt: '0001-01-01T00:00:00Z',
          fingerprint: 'aaaa000000000001',
        },
      ],
    });
    const posts: [string, Record<string, string>, unknown][] = [
      ['/api/dora/deployments', {}, { service: 'cloud\u0000mart', version: '1.0.0', commitSha: sha, commitTime: '2026-02-01T08:00:00Z' }],
      ['/api/dora/deployments', {}, { service: 'cloudmart', version: '1.0.0\u0000', commitSha: sha, commitTime: '2026-02-01T08:00:00Z' }],
      ['/api/dora/alertmanager', {}, alert({ service: 'cloud\u0000mart' })],
      ['/api/dora/alertmanager', {}, alert({ 'ser\u0000vice': 'cloudmart' })],
      ['/api/dora/alertmanager', {}, alert({}, { summary: 'down\u0000' })],
      ['/api/dora/github', { 'X-GitHub-Event': 'push' }, { ref: 'refs/heads/main', repository: { ...repository, name: 'cloud\u0000mart' }, commits: [] }],
      [
        '/api/dora/github?service=cloud%00mart',
        { 'X-GitHub-Event': 'deployment_status' },
        {
          deployment_status: { state: 'success', created_at: '2026-02-01T12:00:00Z' },
          deployment: { sha, environment: 'production' },
          repository,
        },
      ],
    ];
    for (const [path, headers, body] of posts) {
      const res = await request(t.app)
        .post(path)
        .set(headers)
        .send(body as object);
      assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      assertErrorBody(res.body, 'VALIDATION_FAILED');
    }
    await request(t.app).get('/api/dora-metrics?days=3%00').expect(400);
    assert.deepEqual(await writtenRows(t), before);
  });

  test('When a cursor is above the largest id Postgres can hold, then 400 VALIDATION_FAILED', async () => {
    for (const cursor of ['2147483648', '9999999999']) {
      const res = await request(t.app).get(`/api/products?cursor=${cursor}`).expect(400);
      assertErrorBody(res.body, 'VALIDATION_FAILED');
    }
    const last = await request(t.app).get('/api/products?cursor=2147483647').expect(200);
    assert.deepEqual(last.body.data, []);
  });

  test('When Postgres refuses a value the client sent (SQLSTATE class 22), then 400 INVALID_INPUT, in and out of a transaction', async () => {
    const refused = (err: unknown) => err instanceof AppError && err.status === 400 && err.code === 'INVALID_INPUT';
    await assert.rejects(t.db.query('SELECT $1::int AS n', ['9999999999']), refused);
    await assert.rejects(t.db.query('SELECT $1::text AS s', ['a\u0000b']), refused);
    await assert.rejects(
      t.db.transaction((tx) => tx.query('SELECT $1::date AS d', ['not a date'])),
      refused,
    );
    // Not client input: a query naming a missing table is still a bug, answered 500.
    await assert.rejects(t.db.query('SELECT * FROM no_such_table'), (err: unknown) => !(err instanceof AppError));
  });
});

describe('ids in the path', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  // Each of these once answered product 1; an id is written one way only.
  const lenient = ['1e0', '0x1', '+1', '01', '1.0', '%201', '1%20', '0b1', '1n', '-0', '0'];
  const routes: [string, (id: string) => request.Test][] = [
    ['GET /api/products/:id', (id) => request(t.app).get(`/api/products/${id}`)],
    ['GET /api/orders/:id', (id) => request(t.app).get(`/api/orders/${id}`)],
    ['POST /api/orders/:id/cancel', (id) => request(t.app).post(`/api/orders/${id}/cancel`)],
  ];

  for (const [route, send] of routes) {
    test(`When ${route} has an id that is not a canonical decimal, then 400 VALIDATION_FAILED`, async () => {
      if (route.startsWith('POST')) {
        await request(t.app)
          .post('/api/orders')
          .send({ items: [{ productId: 1, quantity: 1 }], customerEmail: 'a@b.co' })
          .expect(201);
      }
      for (const id of [...lenient, '2147483648', '99999999999']) {
        const res = await send(id);
        assert.equal(res.status, 400, `${route} with ${id}: ${res.status} ${JSON.stringify(res.body)}`);
        assertErrorBody(res.body, 'VALIDATION_FAILED');
      }
      const orders = await sql<{ status: string }>(t.database?.url ?? '', 'SELECT status FROM orders');
      assert.ok(
        orders.every((o) => o.status === 'created'),
        'no order was cancelled',
      );
    });
  }

  test('When an id is canonical, then it is served as before', async () => {
    await request(t.app).get('/api/products/1').expect(200);
    await request(t.app).get('/api/products/10').expect(200);
    const res = await request(t.app).get('/api/products/2147483647').expect(404);
    assertErrorBody(res.body, 'NOT_FOUND');
  });
});

describe('requests the routes do not serve', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  for (const path of ['/api/products', '/api/products/1', '/api/orders', '/api/orders/1/cancel', '/api/dora/github', '/health', '/metrics']) {
    test(`When OPTIONS ${path} is asked, then 404 ROUTE_NOT_FOUND in JSON, as for any method the API does not serve`, async () => {
      const res = await request(t.app)
        .options(path)
        .expect('Content-Type', /application\/json/)
        .expect(404);
      assertErrorBody(res.body, 'ROUTE_NOT_FOUND');
      assert.equal(res.headers.allow, undefined);
    });
  }
});

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Every answer on one connection, written as raw bytes, read until the server closes it. */
async function rawExchange(port: number, bytes: string): Promise<RawAnswer[]> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write(bytes);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await Promise.race([
    once(socket, 'close'),
    sleep(10_000).then(() => {
      socket.destroy();
      throw new Error('the server kept the connection open');
    }),
  ]);
  const answers: RawAnswer[] = [];
  let text = Buffer.concat(chunks).toString('utf8');
  while (text) {
    const end = text.indexOf('\r\n\r\n');
    assert.ok(end > 0, `an answer has a head: ${text.slice(0, 200)}`);
    const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length']);
    assert.ok(Number.isInteger(length), `a Content-Length: ${statusLine}`);
    const body = text.slice(end + 4, end + 4 + length);
    answers.push({ status: Number(statusLine.split(' ')[1]), headers, body: headers['content-type']?.includes('json') ? JSON.parse(body) : body });
    text = text.slice(end + 4 + length);
  }
  return answers;
}

describe("requests Node's HTTP parser refuses, on the service process", () => {
  let database: TestDatabase;
  let server: ServerProcess;
  before(async () => {
    database = await createTestDatabase('parser');
    server = await startServerProcess({ DATABASE_URL: database.url, REDIS_URL });
  });
  after(async () => {
    await server.stop();
    await database.drop();
  });

  const cases: [string, string, number, string][] = [
    ['a URL over the header limit', `GET /api/products?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'REQUEST_HEADER_FIELDS_TOO_LARGE'],
    ['a header over the limit', `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431, 'REQUEST_HEADER_FIELDS_TOO_LARGE'],
    ['a request line that is not HTTP', 'NOT HTTP AT ALL\r\n\r\n', 400, 'BAD_REQUEST'],
    ['a header name with a space', 'GET /health HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n', 400, 'BAD_REQUEST'],
    ['two Content-Lengths that differ', 'POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400, 'BAD_REQUEST'],
  ];
  for (const [name, bytes, status, code] of cases) {
    test(`When a request has ${name}, then ${status} with the JSON error body and the connection is closed`, async () => {
      const [answer, ...more] = await rawExchange(server.port, bytes);
      assert.equal(answer?.status, status);
      assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
      assert.equal(answer.headers.connection, 'close');
      assertErrorBody(answer.body, code);
      assert.deepEqual(more, []);
    });
  }

  test('When the request times out or its chunk extensions are too long, then the answer is the status Node gives, in JSON', () => {
    for (const [code, status, name] of [
      ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'REQUEST_TIMEOUT'],
      ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 413, 'PAYLOAD_TOO_LARGE'],
      ['HPE_INVALID_METHOD', 400, 'BAD_REQUEST'],
    ] as const) {
      const { status: answered, text } = clientErrorResponse(code);
      assert.equal(answered, status);
      assert.match(text, new RegExp(`^HTTP/1.1 ${status} `));
      assertErrorBody(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)), name);
    }
  });

  test('When a kept-alive connection sends a good request and then a bad one, then the first is answered and the second gets the JSON 400', async () => {
    const [first, second, ...more] = await rawExchange(server.port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\nNOT HTTP\r\n\r\n');
    assert.equal(first?.status, 200);
    assert.equal(second?.status, 400);
    assertErrorBody(second.body, 'BAD_REQUEST');
    assert.deepEqual(more, []);
  });
});
