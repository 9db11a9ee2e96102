import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { sql } from '../../testkit/postgres';

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
    const text = await request(t.app).get('/metrics').expect(200);
    assert.match(text.text, /cloudmart_orders_failed_total\{reason="validation_failed"\} \d+/);
    assert.match(text.text, /cloudmart_orders_failed_total\{reason="unknown_product"\} \d+/);
  });
});
