import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { clientErrorResponse } from '../../src/http/client-error';
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE } from '../../src/telemetry/exposition';
import { startTestApp, type TestApp } from '../helpers/app';

const ORDER = { items: [{ productId: 3, quantity: 1 }], customerEmail: 'headers@example.com' };

describe('Security and caching headers', () => {
  let t: TestApp;
  let orderId: number;
  before(async () => {
    t = await startTestApp();
    const placed = await request(t.app).post('/api/orders').send(ORDER).expect(201);
    orderId = (placed.body as { id: number }).id;
  });
  after(() => t.close());

  /** One request of every kind the app answers, by what it is. */
  const everyKind = (): [string, request.Test][] => [
    ['GET /health', request(t.app).get('/health')],
    ['GET /health/ready', request(t.app).get('/health/ready')],
    ['GET /metrics', request(t.app).get('/metrics')],
    ['GET a product page', request(t.app).get('/api/products?limit=2')],
    ['GET a product', request(t.app).get('/api/products/1')],
    ['GET an unknown product', request(t.app).get('/api/products/99999')],
    ['GET the orders', request(t.app).get('/api/orders')],
    ['GET an order', request(t.app).get(`/api/orders/${orderId}`)],
    ['POST an invalid order', request(t.app).post('/api/orders').send({ items: [] })],
    ['GET the DORA report', request(t.app).get('/api/dora-metrics')],
    ['GET an unknown route', request(t.app).get('/no/such/route')],
    ['OPTIONS', request(t.app).options('/api/products')],
  ];

  test('When anything is asked, then the answer says nosniff and may not be framed or run as a page', async () => {
    for (const [where, pending] of everyKind()) {
      const res = await pending;
      assert.equal(res.headers['x-content-type-options'], 'nosniff', where);
      assert.equal(res.headers['x-frame-options'], 'DENY', where);
      assert.equal(res.headers['content-security-policy'], "default-src 'none';frame-ancestors 'none'", where);
      assert.equal(res.headers['x-powered-by'], undefined, where);
      assert.ok(res.headers['cache-control'], `${where} says how it may be cached`);
    }
  });

  test('When orders are placed, listed or read, then no cache may store the answer', async () => {
    const answers: [string, request.Test][] = [
      ['POST an order', request(t.app).post('/api/orders').send(ORDER)],
      ['POST an invalid order', request(t.app).post('/api/orders').send({ items: [] })],
      ['GET the orders', request(t.app).get('/api/orders')],
      ['GET an order', request(t.app).get(`/api/orders/${orderId}`)],
      ['GET an unknown order', request(t.app).get('/api/orders/99999')],
      ['cancel an unknown order', request(t.app).post('/api/orders/99999/cancel')],
    ];
    for (const [what, pending] of answers) {
      const res = await pending;
      assert.equal(res.headers['cache-control'], 'no-store', `${what} → ${res.status}`);
    }
  });

  test('When a product is read, then a cache must revalidate before reusing it, hit or miss', async () => {
    for (const url of ['/api/products?limit=2', '/api/products?limit=2', '/api/products/1', '/api/products/1']) {
      const res = await request(t.app).get(url).expect(200);
      assert.equal(res.headers['cache-control'], 'no-cache', `${url} (${String(res.headers['x-cache'])})`);
    }
    const missing = await request(t.app).get('/api/products/99999').expect(404);
    assert.equal(missing.headers['cache-control'], 'no-store');
  });

  test('When Prometheus scrapes, then /metrics keeps its content types and is not cached', async () => {
    const text = await request(t.app).get('/metrics').expect(200);
    assert.equal(text.headers['content-type'], PROMETHEUS_CONTENT_TYPE);
    assert.equal(text.headers['cache-control'], 'no-store');
    assert.match(text.text, /^# HELP /m);
    const open = await request(t.app).get('/metrics').set('Accept', 'application/openmetrics-text; version=1.0.0').expect(200);
    assert.equal(open.headers['content-type'], OPENMETRICS_CONTENT_TYPE);
  });

  test('When Node refuses a request before the app sees it, then its JSON answer carries the same nosniff and no-store', () => {
    const { text } = clientErrorResponse('ERR_HTTP_REQUEST_TIMEOUT');
    const head = text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
    assert.ok(head.includes('X-Content-Type-Options: nosniff'), head.join('\n'));
    assert.ok(head.includes('Cache-Control: no-store'), head.join('\n'));
  });
});
