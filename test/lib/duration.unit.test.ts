/**
 * The one duration parser: units, Prometheus compounds, and a bare number read in the unit
 * its caller documents (milliseconds for the doctor, seconds for npm run load and npm run bench),
 * or refused when the caller names none.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from '../../scripts/lib/duration';

test('every unit, in whole milliseconds', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('45s'), 45_000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('7d'), 604_800_000);
  assert.equal(parseDuration('1w'), 604_800_000);
  assert.equal(parseDuration('1y'), 31_536_000_000);
  assert.equal(parseDuration(' 1.5s '), 1500, 'a fraction, and surrounding blanks');
  assert.equal(parseDuration('1.1s'), 1100, 'rounded to whole milliseconds');
});

test("Prometheus's compound durations", () => {
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('2m30s'), 150_000);
  assert.equal(parseDuration('1m500ms'), 60_500);
});

test('a bare number is in the unit the caller gives, and refused without one', () => {
  assert.equal(parseDuration('2500', 'ms'), 2500);
  assert.equal(parseDuration('90', 's'), 90_000);
  assert.equal(parseDuration('0', 's'), 0);
  assert.equal(parseDuration('1.5', 's'), 1500);
  assert.equal(parseDuration('90'), undefined);
});

test('anything else is not a duration', () => {
  for (const bad of ['', 'soon', '5 s', '-5s', '5x', 's', '5sm', '1h 30m', '1e3', '0x10', '5S']) {
    assert.equal(parseDuration(bad, 's'), undefined, JSON.stringify(bad));
  }
});
