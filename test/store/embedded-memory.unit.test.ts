import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { ROOT } from '../../testkit/server-process';

/**
 * Runs a fresh Node that optionally calls returnLargeAllocations(), then holds 200 buffers
 * of 64 kB, and reads glibc's own count of memory it mapped (malloc_stats() on stderr).
 */
function mmapRegionsAfter200Buffers(apply: boolean): { applied: boolean; regions: number } {
  const script = `
    const { returnLargeAllocations } = require('./src/store/embedded-memory.ts');
    const applied = ${apply} ? returnLargeAllocations() : false;
    const held = Array.from({ length: 200 }, () => Buffer.allocUnsafeSlow(64 * 1024));
    const { functions } = require('node:ffi').dlopen('libc.so.6', { malloc_stats: { arguments: [], return: 'void' } });
    functions.malloc_stats();
    console.log(JSON.stringify({ applied, held: held.length }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--disable-warning=ExperimentalWarning', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const m = /max mmap regions =\s+(\d+)/.exec(r.stderr);
  assert.ok(m, `malloc_stats printed its totals: ${r.stderr}`);
  return { applied: (JSON.parse(r.stdout) as { applied: boolean }).applied, regions: Number(m[1]) };
}

describe('embedded memory: large allocations go back to the system (glibc)', { skip: process.platform !== 'linux' }, () => {
  test('When applied, then glibc maps each 64 kB allocation of its own (freed back to the system), which it otherwise keeps in its heap', () => {
    const on = mmapRegionsAfter200Buffers(true);
    const off = mmapRegionsAfter200Buffers(false);
    assert.equal(on.applied, true);
    // Not exactly 200 either way: Node's own allocations count too, and a few buffers may
    // reuse a region an earlier allocation returned.
    assert.ok(on.regions >= 150, `mapped regions with the setting: ${on.regions}`);
    assert.ok(off.regions < 50, `mapped regions without it: ${off.regions}`);
  });
});
