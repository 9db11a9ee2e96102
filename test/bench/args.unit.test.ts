/** npm run bench's durations: a bare number is seconds, as its usage says; anything else not a duration is refused. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationFlag, parseBenchArgs, UsageError } from '../../bench/lib/args';

test('duration flags in milliseconds, a bare number read as seconds', () => {
  const o = parseBenchArgs(['--duration', '3', '--warmup', '500ms', '--long-run', '0', '--embedded', '1m'], false);
  assert.deepEqual([o.durationMs, o.warmupMs, o.longRunMs, o.embeddedMs], [3000, 500, 0, 60_000]);
  assert.equal(durationFlag('2s'), 2000);
  assert.equal(durationFlag('1.5'), 1500);
});

test('a value that is not a duration is a usage error naming it', () => {
  assert.throws(
    () => parseBenchArgs(['--duration', 'soon'], false),
    (e: Error) => e instanceof UsageError && /not a duration: "soon"/.test(e.message),
  );
  assert.throws(() => parseBenchArgs(['--duration', '500ms'], false), /--duration: at least 1s/);
});
