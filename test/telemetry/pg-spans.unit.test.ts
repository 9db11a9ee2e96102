import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { querySummary } from '../../src/telemetry/pg-spans';

describe('db.query.summary of a query text', () => {
  test('When a query has one operation on one table, then the summary is the operation and the table', () => {
    assert.equal(querySummary('SELECT id, name FROM products WHERE id = $1'), 'SELECT products');
    assert.equal(querySummary('SELECT count(*)::int AS total FROM orders'), 'SELECT orders');
    assert.equal(querySummary('INSERT INTO orders (customer_email, total_cents) VALUES ($1, $2) RETURNING id'), 'INSERT orders');
    assert.equal(querySummary('DELETE FROM order_items WHERE order_id = $1'), 'DELETE order_items');
  });

  test('When a query has several operations and tables, then they appear in the order of the text, as in the conventions examples', () => {
    assert.equal(
      querySummary('INSERT INTO shipping_details (order_id, address) SELECT order_id, address FROM orders WHERE order_id = $1'),
      'INSERT shipping_details SELECT orders',
    );
    assert.equal(querySummary('SELECT * FROM public.users u JOIN orders o ON o.user_id = u.id'), 'SELECT public.users orders');
    assert.equal(
      querySummary('UPDATE products p SET stock = p.stock + v.delta FROM (SELECT unnest($1::int[]) AS id, unnest($2::int[]) AS delta) v WHERE p.id = v.id'),
      'UPDATE products SELECT',
    );
  });

  test('When a query upserts, then DO UPDATE belongs to the INSERT', () => {
    assert.equal(
      querySummary('INSERT INTO dora_incidents (fingerprint) VALUES ($1) ON CONFLICT (fingerprint) DO UPDATE SET resolved_at = EXCLUDED.resolved_at'),
      'INSERT dora_incidents',
    );
  });

  test('When a literal or a comment holds SQL words, then they are not in the summary', () => {
    assert.equal(querySummary("SELECT id FROM products WHERE name = 'DELETE FROM users' -- FROM audit"), 'SELECT products');
  });

  test('When a statement has no table, then the summary is the operation; with no operation there is none', () => {
    assert.equal(querySummary('SELECT 1'), 'SELECT');
    assert.equal(querySummary('BEGIN'), 'BEGIN');
    assert.equal(querySummary('COMMIT'), 'COMMIT');
    assert.equal(querySummary('CREATE TABLE t (a int)'), undefined);
  });

  test('When the summary would pass 255 characters, then it stops before the part that would not fit', () => {
    const summary = querySummary(Array.from({ length: 40 }, (_, i) => `SELECT a FROM table_number_${i}`).join(' UNION ALL '));
    assert.ok(summary && summary.length <= 255, summary);
    // Whole parts only: the next table name would not have fit.
    assert.ok(summary.endsWith(' table_number_10 SELECT'), summary);
    assert.ok(`${summary} table_number_11`.length > 255);
  });
});
