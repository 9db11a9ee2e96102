import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Express } from 'express';
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';

interface Raw {
  status: number;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

/** The response as bytes on the wire, unparsed, with the headers that describe them. */
async function raw(app: Express, url: string): Promise<Raw> {
  const res = await request(app)
    .get(url)
    .buffer(true)
    .parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => done(null, Buffer.concat(chunks)));
    });
  const h = res.headers as Record<string, string | undefined>;
  return {
    status: res.status,
    headers: { 'content-type': h['content-type'], 'content-length': h['content-length'], etag: h.etag, 'x-cache': h['x-cache'] },
    body: res.body as Buffer,
  };
}

const URLS = ['/api/products', '/api/products?limit=3&category=books', '/api/products?q=%25', '/api/products/7'];

for (const cache of ['redis', 'memory'] as const) {
  describe(`A cached product page (${cache} cache): the bytes of a hit are those of its miss`, () => {
    let stored: TestApp;
    let parsed: TestApp;
    before(async () => {
      stored = await startTestApp({ cache });
      // The textbook path, parse and serialise again, as the reference.
      parsed = await startTestApp({ cache, env: { CACHE_SERVE_STORED: 'false' } });
    });
    after(async () => {
      await Promise.all([stored.close(), parsed.close()]);
    });

    for (const url of URLS) {
      test(`When ${url} is read twice, then HIT and MISS carry the same headers and body, as parsing would`, async () => {
        const miss = await raw(stored.app, url);
        const hit = await raw(stored.app, url);
        assert.equal(miss.status, 200);
        assert.equal(miss.headers['x-cache'], 'MISS');
        assert.equal(hit.headers['x-cache'], 'HIT');
        assert.equal(hit.headers['content-type'], 'application/json; charset=utf-8');
        assert.equal(hit.headers.etag, undefined, 'the app sends no ETag, hit or miss');
        assert.deepEqual({ ...hit.headers, 'x-cache': 'MISS' }, miss.headers);
        assert.ok(hit.body.equals(miss.body), 'byte-identical bodies');
        assert.equal(Number(hit.headers['content-length']), hit.body.length);

        const refMiss = await raw(parsed.app, url);
        const refHit = await raw(parsed.app, url);
        assert.equal(refHit.headers['x-cache'], 'HIT');
        for (const ref of [refMiss, refHit]) {
          assert.deepEqual({ ...ref.headers, 'x-cache': hit.headers['x-cache'] }, hit.headers);
          assert.ok(ref.body.equals(hit.body), 'the same bytes as the parse-and-serialise path');
        }
      });
    }

    test('When the id is unknown, then both paths answer the same 404 JSON', async () => {
      const a = await raw(stored.app, '/api/products/99999');
      const b = await raw(parsed.app, '/api/products/99999');
      assert.equal(a.status, 404);
      assert.equal(b.status, 404);
      assert.equal(JSON.parse(a.body.toString()).error.code, 'NOT_FOUND');
    });
  });
}
