import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { ROOT } from '../../testkit/server-process';

interface Run {
  applied: boolean;
  /** Whether returnLargeAllocations loaded node:ffi (and so printed its warning). */
  ffiLoaded: boolean;
  /** glibc's count of the regions it mapped for allocations, at most at once. */
  regions: number;
}

/**
 * Runs a fresh Node that optionally calls returnLargeAllocations(), then holds 200 buffers
 * of 64 kB, and reads glibc's own count of memory it mapped (malloc_stats() on stderr).
 */
function mmapRegionsAfter200Buffers(apply: boolean, env: Record<string, string> = {}): Run {
  const script = `
    const { returnLargeAllocations } = require('./src/tuning/malloc.ts');
    const applied = ${apply} ? returnLargeAllocations() : false;
    const ffiLoaded = process.moduleLoadList.some((m) => /\\bffi\\b/.test(m));
    const held = Array.from({ length: 200 }, () => Buffer.allocUnsafeSlow(64 * 1024));
    const { functions } = require('node:ffi').dlopen('libc.so.6', { malloc_stats: { arguments: [], return: 'void' } });
    functions.malloc_stats();
    console.log(JSON.stringify({ applied, ffiLoaded, held: held.length }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--disable-warning=ExperimentalWarning', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, GLIBC_TUNABLES: '', ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  const m = /max mmap regions =\s+(\d+)/.exec(r.stderr);
  assert.ok(m, `malloc_stats printed its totals: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { applied: boolean; ffiLoaded: boolean };
  return { applied: out.applied, ffiLoaded: out.ffiLoaded, regions: Number(m[1]) };
}

// Not exactly 200 either way: Node's own allocations count too, and a few buffers may reuse a
// region an earlier allocation returned.
const MAPPED = 150;

describe('tuning: large allocations go back to the system (glibc)', { skip: process.platform !== 'linux' }, () => {
  test('When applied, then glibc maps each 64 kB allocation of its own (freed back to the system), which it otherwise keeps in its heap', () => {
    const on = mmapRegionsAfter200Buffers(true);
    const off = mmapRegionsAfter200Buffers(false);
    assert.equal(on.applied, true);
    assert.equal(on.ffiLoaded, true);
    assert.ok(on.regions >= MAPPED, `mapped regions with the setting: ${on.regions}`);
    assert.ok(off.regions < 50, `mapped regions without it: ${off.regions}`);
  });

  test("When glibc's tunable already sets the threshold (as the image does), then it is not set again through node:ffi", () => {
    const run = mmapRegionsAfter200Buffers(true, { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=32768' });
    assert.equal(run.applied, true);
    assert.equal(run.ffiLoaded, false, 'no node:ffi, so no ExperimentalWarning');
    assert.ok(run.regions >= MAPPED, `mapped regions with the tunable: ${run.regions}`);
  });
});
