import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chaosFaultsSchema, NO_FAULTS } from '../../src/chaos/faults';
import { newChange } from '../../src/chaos/state';
import { decodeChange, encodeChange } from '../../src/chaos/stored-change';

test('When a change is stored and read back, then it is the same change, times and expiry included', () => {
  const faults = chaosFaultsSchema.parse({ errorRate: 0.5, routes: ['/api/products/'], ttlSeconds: 30 });
  const set = newChange(faults, 'set', new Date('2026-01-01T00:00:00.000Z'));
  const read = decodeChange(encodeChange(set));
  assert.deepEqual(read, set);
  assert.equal(read?.expiresAt?.toISOString(), '2026-01-01T00:00:30.000Z');
  // Replicas compare changes by their stored text, so reading one back must not alter it.
  assert.equal(read && encodeChange(read), encodeChange(set));

  const cleared = newChange(NO_FAULTS, 'cleared');
  assert.deepEqual(decodeChange(encodeChange(cleared)), cleared);
});

test('When Redis holds something else under the key, then it is not taken for faults', () => {
  const texts = ['', 'not json', '{}', '[]', '{"faults":{"errorRate":2},"reason":"set","changedAt":"2026-01-01T00:00:00.000Z"}'];
  for (const text of texts) assert.equal(decodeChange(text), undefined, text);
});
