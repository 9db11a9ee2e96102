import assert from 'node:assert/strict';
import { test } from 'node:test';
import { poolMaxFor } from '../../bench/lib/service';

test('When every service at the default pool would outgrow max_connections, then each gets a share that fits', () => {
  // Six modes of two builds on a stock Postgres (100 connections, 3 reserved).
  const each = poolMaxFor(12, 100, 3);
  assert.equal(each, 7);
  assert.ok(12 * (each ?? 10) <= 100 - 3 - 5);
  assert.equal(poolMaxFor(6, 100, 3), undefined, 'six services at 10 fit: the default stays');
  assert.throws(() => poolMaxFor(60, 100, 3), /too few for 60 services/);
});
