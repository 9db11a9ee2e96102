/**
 * Comments explain, docs measure: a comment in src/ says why the code is the way it is and
 * points to the section of docs/benchmark.md that holds the numbers, so a figure from a run
 * is written down once, next to how it was measured, and is not left to go stale in the code.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { srcDir, tsFiles } from '../helpers/source-files';
import ts from 'typescript';

const repoRoot = path.join(__dirname, '..', '..');

/** A number followed by a unit a measurement is reported in: time, memory, a ratio or a share. */
const MEASURED = /(?<![\w.])\d(?:[\d,.]*\d)?\s*(?:ms|µs|us|MB|MiB|GB|×|x|%)(?![\w])/;

/**
 * Numbers in comments that are not measurements, as `file: text`. Prefer rewording the
 * comment; an entry here is for a figure that is a documented setting and reads worse without
 * its number.
 */
const ALLOWED: readonly string[] = [];

/** Every comment of a TypeScript file, found by the compiler's parser (not inside strings or regular expressions). */
function comments(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const ranges = new Map<number, ts.CommentRange>();
  const add = (found: ts.CommentRange[] | undefined) => {
    for (const r of found ?? []) ranges.set(r.pos, r);
  };
  const visit = (node: ts.Node) => {
    add(ts.getLeadingCommentRanges(text, node.getFullStart()));
    add(ts.getTrailingCommentRanges(text, node.getEnd()));
    node.forEachChild(visit);
  };
  visit(source);
  add(ts.getLeadingCommentRanges(text, source.endOfFileToken.getFullStart()));
  return [...ranges.values()].map((r) => text.slice(r.pos, r.end));
}

/** `file: line` for each line of a comment in src/ that carries a measured number. */
function measuredComments(): string[] {
  const found: string[] = [];
  for (const file of tsFiles(srcDir)) {
    const rel = path.relative(repoRoot, file).split(path.sep).join('/');
    for (const comment of comments(file)) {
      for (const line of comment.split('\n')) {
        const trimmed = line
          .replace(/^\s*(?:\/\/|\/\*+|\*\/?)?\s*/, '')
          .replace(/\s*\*\/$/, '')
          .trim();
        if (MEASURED.test(trimmed)) found.push(`${rel}: ${trimmed}`);
      }
    }
  }
  return found;
}

test('the pattern finds measurements and passes over names, hex and settings', () => {
  for (const s of [
    'p99 13.5 → 10.4 ms',
    'measured 17,500 live spans and +35 MB RSS',
    'from 0.44× to 0.50×',
    'about 2.5 ms',
    '0.3x',
    'ran 28 % slower',
    '6–7 µs',
    '1 GiB or 2 GB',
  ]) {
    assert.match(s, MEASURED, s);
  }
  for (const s of ['DB_CONNECT_TIMEOUT_MS', '0x1F', 'v8 heap', '10 users', 'sha256', '--max-semi-space-size=8', 'es2022']) {
    assert.doesNotMatch(s, MEASURED, s);
  }
});

test('comments in src/ carry no measured numbers: they say why and point to docs/benchmark.md', () => {
  const files = tsFiles(srcDir);
  assert.ok(files.length >= 50, `only ${files.length} files under src/`);
  const found = measuredComments();
  assert.deepEqual(
    found.filter((f) => !ALLOWED.includes(f)),
    [],
    'move the figure to its section of docs/benchmark.md and point there ("docs/benchmark.md, \\"Section\\"")',
  );
  for (const allowed of ALLOWED) assert.ok(found.includes(allowed), `stale allowlist entry: ${allowed}`);
});

test('every docs/benchmark.md section a comment in src/ names exists', () => {
  const headings = new Set(
    readFileSync(path.join(repoRoot, 'docs', 'benchmark.md'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('#'))
      .map((l) => l.replace(/^#+\s*/, '').trim()),
  );
  let seen = 0;
  for (const file of tsFiles(srcDir)) {
    // A pointer may wrap over comment lines: join them first.
    const text = comments(file)
      .join('\n')
      .replace(/\n\s*(?:\/\/|\*)\s*/g, ' ');
    for (const m of text.matchAll(/docs\/benchmark\.md,\s*((?:"[^"]+"(?:,\s*|\s+and\s+)?)+)/g)) {
      for (const name of (m[1] ?? '').matchAll(/"([^"]+)"/g)) {
        seen++;
        assert.ok(headings.has(name[1] ?? ''), `${path.relative(repoRoot, file)} points to docs/benchmark.md, "${name[1]}", which has no such heading`);
      }
    }
  }
  assert.ok(seen >= 5, `only ${seen} pointers to docs/benchmark.md sections`);
});
