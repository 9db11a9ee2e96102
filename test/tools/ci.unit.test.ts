import assert from 'node:assert/strict';
import { test } from 'node:test';
import { underCI } from '../helpers/ci';

test('CI counts as set for any value a runner uses, and as unset only when empty, false or 0', () => {
  for (const value of ['true', 'TRUE', '1', 'yes', 'github-actions', ' true ']) assert.equal(underCI({ CI: value }), true, JSON.stringify(value));
  for (const value of [undefined, '', ' ', 'false', 'FALSE', '0']) assert.equal(underCI({ CI: value }), false, JSON.stringify(value));
});
