import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';

describe('embedded defaults (PGlite + in-memory cache)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ database: 'embedded', cache: 'memory' });
  });
  after(() => t.close());

  test('When nothing is configured, then the config chooses embedded Postgres and the memory cache', () => {
    assert.equal(t.config.database.kind, 'embedded');
    assert.equal(t.config.cache.kind, 'memory');
    assert.ok(
      t.logs.find((l) => l.database === 'embedded'),
      'a log line says which database it uses',
    );
    assert.ok(
      t.logs.find((l) => l.cache === 'memory'),
      'a log line says which cache it uses',
    );
  });

  test('When started with the defaults, then Postgres runs with the small embedded settings', async () => {
    assert.equal(t.config.database.kind === 'embedded' && t.config.database.lowMemory, true);
    const rows = await t.db.query<{ name: string; setting: string; unit: string | null }>(
      "SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'max_wal_size')",
    );
    const kb = (name: string) => {
      const r = rows.find((x) => x.name === name);
      assert.ok(r, name);
      return Number(r.setting) * (r.unit === '8kB' ? 8 : r.unit === 'MB' ? 1024 : 1);
    };
    assert.equal(kb('shared_buffers'), 8 * 1024);
    assert.equal(kb('max_wal_size'), 32 * 1024);
    // The malloc setting is glibc's tunable, read when the process starts (npm start adds it:
    // test/tuning/malloc.unit.test.ts); the log says whether this process, the test runner, has it.
    const tunable = process.platform === 'linux' && /(^|:)glibc\.malloc\.mmap_threshold=/.test(process.env.GLIBC_TUNABLES ?? '');
    assert.equal(t.logs.find((l) => l.database === 'embedded')?.returnsLargeAllocations, tunable);
  });

  test('When products are listed, then the migrated seed catalog is served and cached', async () => {
    const first = await request(t.app).get('/api/products').expect(200);
    assert.equal(first.body.page.total, 50);
    assert.equal(first.headers['x-cache'], 'MISS');
    assert.equal((await request(t.app).get('/api/products')).headers['x-cache'], 'HIT');
  });

  test('When orders race for stock on the single embedded connection, then none oversells', async () => {
    const all = (await request(t.app).get('/api/products?limit=100').expect(200)).body.data as { id: number; stock: number }[];
    const low = all.find((p) => p.stock >= 2 && p.stock <= 5);
    assert.ok(low, 'the seed catalog has low-stock products');
    const results = await Promise.all(
      Array.from({ length: low.stock + 4 }, () =>
        request(t.app)
          .post('/api/orders')
          .send({ items: [{ productId: low.id, quantity: 1 }], customerEmail: 'e@x.co' }),
      ),
    );
    assert.equal(results.filter((r) => r.status === 201).length, low.stock);
    assert.equal(results.filter((r) => r.status === 409).length, 4);
    assert.equal((await request(t.app).get(`/api/products/${low.id}`).expect(200)).body.stock, 0);
    await request(t.app).get('/health/ready').expect(200);
  });
});
