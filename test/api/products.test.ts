import assert from 'node:assert/strict';
import { after, before, describe, mock, test } from 'node:test';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';

describe('GET /api/products', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  test('When the catalog is listed, then it is the seeded catalog, paginated, with exact prices', async () => {
    const res = await request(t.app).get('/api/products').expect(200);
    assert.equal(res.body.page.total, 50);
    assert.equal(res.body.data.length, 20);
    const p = res.body.data[0];
    for (const k of ['id', 'name', 'description', 'category', 'price', 'priceCents', 'stock']) assert.ok(k in p, k);
    assert.match(p.price, /^\d+\.\d{2}$/);
    assert.equal(Number(p.price.replace('.', '')), p.priceCents);
  });

  test('When the same page is read twice, then the second read is a cache hit', async () => {
    const first = await request(t.app).get('/api/products?limit=3&category=books').expect(200);
    assert.equal(first.headers['x-cache'], 'MISS');
    const second = await request(t.app).get('/api/products?limit=3&category=books').expect(200);
    assert.equal(second.headers['x-cache'], 'HIT');
    assert.deepEqual(second.body, first.body);
  });

  test('When a search is cached, then its Redis key is a digest of the normalised query, not the search text, and the same search hits', async () => {
    const sets = mock.method(t.cache, 'set');
    const reads = mock.method(t.cache, 'getMany');
    try {
      const first = await request(t.app).get('/api/products?q=Espresso%20Blend&limit=4').expect(200);
      assert.equal(first.headers['x-cache'], 'MISS');
      const second = await request(t.app).get('/api/products?limit=4&q=espresso%20blend').expect(200);
      assert.equal(second.headers['x-cache'], 'HIT', 'the search is lowercased before it is hashed');
      assert.deepEqual(second.body, first.body);
      const keys = [...sets.mock.calls.map((c) => c.arguments[0]), ...reads.mock.calls.flatMap((c) => c.arguments[0])];
      const pages = keys.filter((k) => k.startsWith('products:list:'));
      assert.equal(pages.length, 3, 'read, stored, read again');
      assert.equal(new Set(pages).size, 1, 'one key for both spellings');
      assert.match(pages[0] ?? '', /^products:list:[0-9a-f]{32}$/);
      assert.ok(!keys.some((k) => /espresso|blend/i.test(k)), keys.join(', '));
    } finally {
      sets.mock.restore();
      reads.mock.restore();
    }
  });

  test('When paging with a cursor, then pages follow without overlap and end with a null cursor', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/api/products?limit=15${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await request(t.app).get(url).expect(200);
      seen.push(...res.body.data.map((p: { id: number }) => p.id));
      cursor = res.body.page.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    assert.equal(pages, 4);
    assert.equal(new Set(seen).size, 50);
  });

  test('When paging with offset, then the page starts there', async () => {
    const all = await request(t.app).get('/api/products?limit=100').expect(200);
    const page = await request(t.app).get('/api/products?limit=5&offset=10').expect(200);
    assert.deepEqual(
      page.body.data.map((p: { id: number }) => p.id),
      all.body.data.slice(10, 15).map((p: { id: number }) => p.id),
    );
  });

  test('When filtering by category and searching, then only matching products come back', async () => {
    const books = await request(t.app).get('/api/products?category=books&limit=100').expect(200);
    assert.ok(books.body.data.length >= 5);
    assert.ok(books.body.data.every((p: { category: string }) => p.category === 'books'));
    const search = await request(t.app).get('/api/products?q=coffee').expect(200);
    assert.ok(search.body.data.length >= 2);
    assert.ok(search.body.data.every((p: { name: string; description: string }) => /coffee/i.test(p.name + p.description)));
    const wildcard = await request(t.app).get('/api/products?q=%25').expect(200);
    assert.equal(wildcard.body.data.length, 1, '% is matched literally (only "85% cacao")');
  });

  test('When a query parameter is out of range or unknown, then 400 names it', async () => {
    for (const qs of ['limit=0', 'limit=101', 'limit=abc', 'offset=-1', 'cursor=x', 'foo=bar', 'limit=1&limit=2', 'offset=1&cursor=2']) {
      const res = await request(t.app).get(`/api/products?${qs}`).expect(400);
      assert.equal(res.body.error.code, 'VALIDATION_FAILED', qs);
      assert.ok(Array.isArray(res.body.error.details), qs);
    }
  });
});

describe('GET /api/products/:id', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  test('When the product exists, then it is returned, and cached on the second read', async () => {
    const res = await request(t.app).get('/api/products/3').expect(200);
    assert.equal(res.body.id, 3);
    assert.equal(res.headers['x-cache'], 'MISS');
    assert.equal((await request(t.app).get('/api/products/3')).headers['x-cache'], 'HIT');
  });

  test('When the id is unknown, then 404 JSON', async () => {
    const res = await request(t.app).get('/api/products/99999').expect(404);
    assert.equal(res.body.error.code, 'NOT_FOUND');
  });

  test('When the id is malformed, then 400 JSON', async () => {
    for (const id of ['abc', '1.5', '-1', '0', '99999999999']) {
      const res = await request(t.app).get(`/api/products/${id}`).expect(400);
      assert.equal(res.body.error.code, 'VALIDATION_FAILED', id);
    }
  });
});

describe('GET /api/products while an order lands', () => {
  const LIST = '/api/products?limit=1&offset=7';
  let t: TestApp;
  let releaseStores: () => void = () => undefined;
  /** The list pages' stores so far, each settled once Redis has the page. */
  const stores: Promise<void>[] = [];

  before(async () => {
    const gate = new Promise<void>((resolve) => (releaseStores = resolve));
    t = await startTestApp();
    // The real Redis cache, with list pages' stores held back until the test lets them go.
    const store = t.cache.set.bind(t.cache);
    mock.method(t.cache, 'set', (key: string, value: string, ttl: number): Promise<void> => {
      if (!key.startsWith('products:list:')) return store(key, value, ttl);
      const held = gate.then(() => store(key, value, ttl));
      stores.push(held);
      return held;
    });
  });
  after(() => t.close());

  test('When the page a miss loaded is stored only after an order changed its stock, then that stale page is never served', async () => {
    const before = await request(t.app).get(LIST).expect(200);
    assert.equal(before.headers['x-cache'], 'MISS');
    const product = before.body.data[0] as { id: number; stock: number };
    await request(t.app)
      .post('/api/orders')
      .send({ items: [{ productId: product.id, quantity: 1 }], customerEmail: 'race@example.com' })
      .expect(201);
    releaseStores();
    await Promise.all(stores);
    const after = await request(t.app).get(LIST).expect(200);
    assert.equal(after.headers['x-cache'], 'MISS', 'the page stored late was loaded under the old catalog generation');
    assert.equal(after.body.data[0].stock, product.stock - 1);
    await Promise.all(stores);
    const again = await request(t.app).get(LIST).expect(200);
    assert.equal(again.headers['x-cache'], 'HIT');
    assert.equal(again.body.data[0].stock, product.stock - 1);
  });
});
