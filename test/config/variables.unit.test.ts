/**
 * Configuration is read in one place: src/config.ts validates the service's variables and
 * names, in its header, the ones it leaves to the telemetry bootstrap and the SDKs. A
 * variable read anywhere else in src/ and not named there fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { srcDir, tsFiles } from '../helpers/source-files';
import { LOG_LEVELS } from '../../src/config';
import { createLogger } from '../../src/telemetry/logger';

const configText = readFileSync(path.join(srcDir, 'config.ts'), 'utf8');

test('every variable src/ reads outside config.ts is named in config.ts', () => {
  const named = new Set(configText.match(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g));
  const unnamed: string[] = [];
  let reads = 0;
  for (const file of tsFiles(srcDir)) {
    if (file.endsWith(`${path.sep}config.ts`)) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/\benv\.([A-Z][A-Z0-9_]+)|\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g)) {
      const name = m[1] ?? m[2] ?? '';
      reads++;
      if (!named.has(name)) unnamed.push(`${path.relative(srcDir, file)}: ${name}`);
    }
  }
  assert.ok(reads >= 10, `only ${reads} reads found`);
  assert.deepEqual(unnamed, [], 'name them in the header of src/config.ts (or validate them there)');
});

test('the logger takes exactly the levels LOG_LEVEL accepts', () => {
  for (const level of LOG_LEVELS) assert.equal(createLogger({ level }).level, level);
  assert.equal(createLogger({ level: 'verbose' }).level, 'info', 'an unknown level falls back to info');
});
