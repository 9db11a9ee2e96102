import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { sql } from '../../testkit/postgres';

const EMAIL = 'student.privacy@example.com';
const MASKED = 's***@example.com';

async function statusOf(t: TestApp, id: number): Promise<string | undefined> {
  return (await sql<{ status: string }>(t.database?.url ?? '', 'SELECT status FROM orders WHERE id = $1', [id]))[0]?.status;
}

async function stockOf(t: TestApp, id: number): Promise<number> {
  return (await sql<{ stock: number }>(t.database?.url ?? '', 'SELECT stock FROM products WHERE id = $1', [id]))[0]?.stock ?? -1;
}

describe('order privacy', () => {
  let t: TestApp;
  let orderId: number;
  before(async () => {
    t = await startTestApp();
    const placed = await request(t.app)
      .post('/api/orders')
      .send({ items: [{ productId: 3, quantity: 2 }], customerEmail: 'Student.Privacy@Example.com' })
      .expect(201);
    // The client that placed the order sent the address; the answer to it may say it back.
    assert.equal(placed.body.customerEmail, EMAIL);
    orderId = Number(placed.body.id);
  });
  after(() => t.close());

  test('When anyone lists the orders, then each e-mail is masked and the address appears nowhere', async () => {
    const res = await request(t.app).get('/api/orders').expect(200);
    assert.equal(res.body.data[0].id, orderId);
    assert.equal(res.body.data[0].customerEmail, MASKED);
    assert.ok(!res.text.toLowerCase().includes(EMAIL), res.text);
    assert.ok(!res.text.includes('student.privacy'), 'not even the local part');
  });

  test('When anyone reads one order, then its e-mail is masked and the address appears nowhere', async () => {
    const res = await request(t.app).get(`/api/orders/${orderId}`).expect(200);
    assert.equal(res.body.customerEmail, MASKED);
    assert.ok(!res.text.toLowerCase().includes(EMAIL), res.text);
  });

  test('When a cancel comes without proof or with the wrong e-mail, then 404 NOT_FOUND, as for an unknown id, and the order stays', async () => {
    const stock = await stockOf(t, 3);
    const refused = [
      request(t.app).post(`/api/orders/${orderId}/cancel`),
      request(t.app).post(`/api/orders/${orderId}/cancel`).send({}),
      request(t.app).post(`/api/orders/${orderId}/cancel`).send({ customerEmail: 'someone@example.com' }),
      request(t.app).post(`/api/orders/${orderId}/cancel`).send({ customerEmail: MASKED }),
    ];
    const unknown = await request(t.app).post('/api/orders/999999/cancel').send({ customerEmail: EMAIL }).expect(404);
    for (const pending of refused) {
      const res = await pending;
      assert.equal(res.status, 404, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'NOT_FOUND');
      // The same answer as an id that does not exist, but for the id itself.
      assert.equal(res.body.error.message, unknown.body.error.message.replace('999999', String(orderId)));
    }
    assert.equal(await statusOf(t, orderId), 'created');
    assert.equal(await stockOf(t, 3), stock);
  });

  test('When a cancel has a malformed proof, then 400 VALIDATION_FAILED and the order stays', async () => {
    for (const body of [{ customerEmail: 42 }, { customerEmail: EMAIL, extra: true }]) {
      const res = await request(t.app).post(`/api/orders/${orderId}/cancel`).send(body).expect(400);
      assert.equal(res.body.error.code, 'VALIDATION_FAILED');
    }
    assert.equal(await statusOf(t, orderId), 'created');
  });

  test('When the right e-mail is the proof, in any case, then the order is cancelled, the answer masked; then a wrong proof is still 404', async () => {
    const stock = await stockOf(t, 3);
    const res = await request(t.app).post(`/api/orders/${orderId}/cancel`).send({ customerEmail: 'STUDENT.privacy@example.COM' }).expect(200);
    assert.equal(res.body.status, 'cancelled');
    assert.equal(res.body.customerEmail, MASKED);
    assert.equal(await statusOf(t, orderId), 'cancelled');
    assert.equal(await stockOf(t, 3), stock + 2);
    // A cancelled order's state is told only to its customer.
    await request(t.app).post(`/api/orders/${orderId}/cancel`).send({ customerEmail: 'x@y.co' }).expect(404);
    const again = await request(t.app).post(`/api/orders/${orderId}/cancel`).send({ customerEmail: EMAIL }).expect(409);
    assert.equal(again.body.error.code, 'ORDER_NOT_CANCELLABLE');
  });

  test('When the order routes are served, then no log line carries the e-mail', () => {
    const lines = t.logs.lines.map((l) => JSON.stringify(l).toLowerCase());
    assert.ok(lines.length > 0, 'the requests were logged');
    assert.deepEqual(
      lines.filter((l) => l.includes(EMAIL) || l.includes('student.privacy')),
      [],
    );
  });
});
