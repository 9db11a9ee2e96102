import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';
import { sql } from '../../testkit/postgres';

async function stockOf(t: TestApp, id: number): Promise<number> {
  const rows = await sql<{ stock: number }>(t.database?.url ?? '', 'SELECT stock FROM products WHERE id = $1', [id]);
  return rows[0]?.stock ?? -1;
}

async function setStock(t: TestApp, id: number, stock: number): Promise<void> {
  await sql(t.database?.url ?? '', 'UPDATE products SET stock = $2 WHERE id = $1', [id, stock]);
  await t.cache.incr('products:generation');
}

async function orderCount(t: TestApp): Promise<number> {
  return (await sql<{ n: number }>(t.database?.url ?? '', 'SELECT count(*)::int AS n FROM orders'))[0]?.n ?? -1;
}

describe('orders', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  test('When an order is placed, then 201 with server-side totals in exact cents, and stock goes down', async () => {
    await setStock(t, 1, 10);
    await setStock(t, 2, 10);
    const [p1, p2] = await Promise.all([1, 2].map(async (id) => (await request(t.app).get(`/api/products/${id}`)).body));
    const res = await request(t.app)
      .post('/api/orders')
      .send({
        items: [
          { productId: 1, quantity: 3 },
          { productId: 2, quantity: 1 },
        ],
        customerEmail: 'Ada@Example.com',
      })
      .expect(201);
    assert.equal(res.body.status, 'created');
    assert.equal(res.body.totalCents, Number(p1.priceCents) * 3 + Number(p2.priceCents));
    assert.equal(res.body.items.length, 2);
    assert.equal(res.body.customerEmail, 'ada@example.com');
    assert.equal(res.headers.location, `/api/orders/${res.body.id}`);
    assert.equal(await stockOf(t, 1), 7);
    assert.equal(await stockOf(t, 2), 9);
    // The cached catalog was invalidated: the list shows the new stock at once.
    const list = await request(t.app).get('/api/products?limit=2').expect(200);
    assert.equal(list.body.data[0].stock, 7);
    assert.equal((await request(t.app).get('/api/products/1')).body.stock, 7);
  });

  test('When the same product appears twice, then it is one line with the summed quantity', async () => {
    await setStock(t, 5, 10);
    const res = await request(t.app)
      .post('/api/orders')
      .send({
        items: [
          { productId: 5, quantity: 1 },
          { productId: 5, quantity: 2 },
        ],
        customerEmail: 'a@b.co',
      })
      .expect(201);
    assert.deepEqual(
      res.body.items.map((i: { quantity: number }) => i.quantity),
      [3],
    );
  });

  test('When stock is insufficient, then 409 and nothing is written', async () => {
    await setStock(t, 4, 2);
    await setStock(t, 6, 50);
    const before = await orderCount(t);
    const res = await request(t.app)
      .post('/api/orders')
      .send({
        items: [
          { productId: 6, quantity: 1 },
          { productId: 4, quantity: 3 },
        ],
        customerEmail: 'a@b.co',
      })
      .expect(409);
    assert.equal(res.body.error.code, 'INSUFFICIENT_STOCK');
    assert.deepEqual(res.body.error.details.items, [{ productId: 4, requested: 3, available: 2 }]);
    assert.equal(await orderCount(t), before);
    assert.equal(await stockOf(t, 6), 50, 'the other line was not decremented either');
  });

  test('When a product does not exist, then 422 and nothing is written', async () => {
    const before = await orderCount(t);
    const res = await request(t.app)
      .post('/api/orders')
      .send({ items: [{ productId: 424242, quantity: 1 }], customerEmail: 'a@b.co' })
      .expect(422);
    assert.equal(res.body.error.code, 'UNKNOWN_PRODUCT');
    assert.deepEqual(res.body.error.details.productIds, [424242]);
    assert.equal(await orderCount(t), before);
  });

  test('When an order is fetched, listed and cancelled, then stock is restored exactly once', async () => {
    await setStock(t, 7, 5);
    const created = (
      await request(t.app)
        .post('/api/orders')
        .send({ items: [{ productId: 7, quantity: 2 }], customerEmail: 'c@d.co' })
        .expect(201)
    ).body;
    // A read shows the order as placed, the customer's e-mail masked (see 'order privacy').
    assert.deepEqual((await request(t.app).get(`/api/orders/${created.id}`).expect(200)).body, { ...created, customerEmail: 'c***@d.co' });
    const list = await request(t.app).get('/api/orders?limit=5').expect(200);
    assert.equal(list.body.data[0].id, created.id, 'newest first');
    assert.ok(list.body.page.total >= 1);
    assert.equal(await stockOf(t, 7), 3);

    const cancelled = await request(t.app).post(`/api/orders/${created.id}/cancel`).send({ customerEmail: 'c@d.co' }).expect(200);
    assert.equal(cancelled.body.status, 'cancelled');
    assert.ok(cancelled.body.cancelledAt);
    assert.equal(await stockOf(t, 7), 5);

    const again = await Promise.all([1, 2, 3].map(() => request(t.app).post(`/api/orders/${created.id}/cancel`).send({ customerEmail: 'c@d.co' })));
    assert.deepEqual(
      again.map((r) => r.status),
      [409, 409, 409],
    );
    assert.equal(await stockOf(t, 7), 5, 'restored once');
    await request(t.app).post('/api/orders/999999/cancel').send({ customerEmail: 'c@d.co' }).expect(404);
    await request(t.app).get('/api/orders/999999').expect(404);
    await request(t.app).get('/api/orders/abc').expect(400);
  });

  test('When two cancels race, then stock is restored once', async () => {
    await setStock(t, 8, 5);
    const created = (
      await request(t.app)
        .post('/api/orders')
        .send({ items: [{ productId: 8, quantity: 4 }], customerEmail: 'c@d.co' })
        .expect(201)
    ).body;
    const results = await Promise.all(
      Array.from({ length: 6 }, () => request(t.app).post(`/api/orders/${created.id}/cancel`).send({ customerEmail: 'c@d.co' })),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.equal(results.filter((r) => r.status === 409).length, 5);
    assert.equal(await stockOf(t, 8), 5);
  });
});

describe('Idempotency-Key', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  const body = { items: [{ productId: 10, quantity: 1 }], customerEmail: 'retry@example.com' };

  test('When a request is retried with the same key and body, then the first order is returned', async () => {
    await setStock(t, 10, 100);
    const first = await request(t.app).post('/api/orders').set('Idempotency-Key', 'key-seq-1').send(body).expect(201);
    const retry = await request(t.app).post('/api/orders').set('Idempotency-Key', 'key-seq-1').send(body).expect(201);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.deepEqual(retry.body, first.body);
    assert.equal(await stockOf(t, 10), 99);
  });

  test('When the same key is sent 5 times at once, then exactly one order is created', async () => {
    await setStock(t, 11, 100);
    const b = { items: [{ productId: 11, quantity: 2 }], customerEmail: 'burst@example.com' };
    const before = await orderCount(t);
    const results = await Promise.all(Array.from({ length: 5 }, () => request(t.app).post('/api/orders').set('Idempotency-Key', 'key-burst-1').send(b)));
    assert.deepEqual(
      results.map((r) => r.status),
      [201, 201, 201, 201, 201],
    );
    assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
    assert.equal(results.filter((r) => r.headers['idempotent-replayed'] === 'true').length, 4);
    assert.equal(await orderCount(t), before + 1);
    assert.equal(await stockOf(t, 11), 98);
  });

  test('When the same key comes with a different body, then 422 and nothing is written', async () => {
    await request(t.app).post('/api/orders').set('Idempotency-Key', 'key-diff-1').send(body).expect(201);
    const before = await orderCount(t);
    const res = await request(t.app)
      .post('/api/orders')
      .set('Idempotency-Key', 'key-diff-1')
      .send({ ...body, items: [{ productId: 10, quantity: 2 }] })
      .expect(422);
    assert.equal(res.body.error.code, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal(await orderCount(t), before);
  });

  test('When the key is malformed, then 400', async () => {
    await request(t.app).post('/api/orders').set('Idempotency-Key', 'x'.repeat(300)).send(body).expect(400);
  });
});

describe('concurrency', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  test('When 40 customers order the last 20 units at once, then exactly 20 succeed and stock ends at 0', async () => {
    await setStock(t, 12, 20);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        request(t.app)
          .post('/api/orders')
          .send({ items: [{ productId: 12, quantity: 1 }], customerEmail: `c${i}@example.com` }),
      ),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 20);
    assert.equal(statuses.filter((s) => s === 409).length, 20);
    assert.equal(await stockOf(t, 12), 0);
    const lines = await sql<{ n: number }>(t.database?.url ?? '', 'SELECT coalesce(sum(quantity), 0)::int AS n FROM order_items WHERE product_id = 12');
    assert.equal(lines[0]?.n, 20);
  });
});
