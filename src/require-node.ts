/**
 * Stops the process at once, with one line, on a Node.js older than the one CloudMart runs
 * on. Imported first by every entry point (tuning/relaunch.ts, telemetry/register.ts and
 * server.ts), so it runs
 * before any dependency that needs a newer runtime could fail deep inside with a stack trace.
 * Written for any Node.js: no imports, nothing newer than ES2022.
 */

/** The oldest Node.js CloudMart supports; package.json's `engines` states the same (a test checks). */
export const MINIMUM_NODE = '24.0.0';

/** Whether version a (dotted numbers, an optional leading "v") is at least b. */
export function atLeast(a: string, b: string): boolean {
  const parse = (v: string) =>
    v
      .replace(/^v/, '')
      .split('.')
      .map((n) => Number.parseInt(n, 10) || 0);
  const [x, y] = [parse(a), parse(b)];
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

if (!atLeast(process.versions.node, MINIMUM_NODE)) {
  process.stderr.write(`CloudMart needs Node.js ${MINIMUM_NODE} or newer; this is Node.js ${process.versions.node} (${process.execPath}).\n`);
  process.exit(1);
}
