/**
 * npm run doctor -- [options]: is the lab stack working? One line per check, a fix
 * under every miss; exit 1 when anything is missed, 2 for bad options.
 * Nothing here may end in a stack trace: a student needs the reason and the fix.
 */
import { runChecks } from './checks';
import type { CheckLine } from './probe';
import { parseDoctorArgs, USAGE, UsageError, type DoctorOptions } from './options';

const MARK = { ok: '[ok]  ', miss: '[MISS]', skip: '[skip]' } as const;

function formatChecklist(lines: CheckLine[], o: DoctorOptions): string {
  const out = [`CloudMart lab doctor (each request waits at most ${o.timeoutMs} ms)`, ''];
  const width = Math.max(...lines.map((l) => l.check.length), 10);
  lines.forEach((l, i) => {
    if (l.component !== lines[i - 1]?.component) out.push(l.component);
    out.push(`  ${MARK[l.status]} ${l.check.padEnd(width)}  ${l.detail}`);
    if (l.fix) out.push(`  ${' '.repeat(6)} ${' '.repeat(width)}  fix: ${l.fix}`);
  });
  const [missed, passed, skipped] = (['miss', 'ok', 'skip'] as const).map((s) => lines.filter((l) => l.status === s).length);
  out.push(
    '',
    missed
      ? `${missed} missed, ${passed} ok, ${skipped} skipped: fix the misses above and run npm run doctor again.`
      : `All ${passed} checks ok${skipped ? `, ${skipped} skipped` : ''}.`,
  );
  return `${out.join('\n')}\n`;
}

/** The exit code: 0 nothing missed, 1 something missed, 2 bad options. */
async function main(argv: string[]): Promise<number> {
  let options: DoctorOptions | 'help';
  try {
    options = parseDoctorArgs(argv, process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`doctor: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const lines = await runChecks(options);
  process.stdout.write(formatChecklist(lines, options));
  return lines.some((l) => l.status === 'miss') ? 1 : 0;
}

// Should a request ever hang with nothing holding the event loop open, node would exit 0 without a word.
const silentEnd = () => {
  process.stdout.write('doctor: a check ended without an answer; treat the stack as not ready\n');
  process.exitCode = 1;
};
process.once('beforeExit', silentEnd);
void main(process.argv.slice(2))
  .catch((err: unknown) => {
    // A bug in the doctor itself: still one line, never a stack trace.
    process.stderr.write(`doctor failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  })
  .then((code) => {
    process.off('beforeExit', silentEnd);
    process.exitCode = code;
  });
