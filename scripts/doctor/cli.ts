/**
 * npm run doctor -- [options]: is the lab stack working? One line per check, a fix
 * under every miss; exit 1 when anything is missed, 2 for bad options.
 * Nothing here may end in a stack trace: a student needs the reason and the fix.
 */
import { runChecks } from './checks';
import type { CheckLine } from './probe';
import { parseDoctorArgs, USAGE, UsageError, type DoctorOptions } from './options';

const MARK = { ok: '[ok]  ', miss: '[MISS]', skip: '[skip]' } as const;

export function formatChecklist(lines: CheckLine[], o: DoctorOptions): string {
  const out = [`CloudMart lab doctor (each request waits at most ${o.timeoutMs} ms)`, ''];
  const width = Math.max(...lines.map((l) => l.check.length), 10);
  let current = '';
  for (const l of lines) {
    if (l.component !== current) {
      current = l.component;
      out.push(current);
    }
    out.push(`  ${MARK[l.status]} ${l.check.padEnd(width)}  ${l.detail}`);
    if (l.fix) out.push(`  ${' '.repeat(6)} ${' '.repeat(width)}  fix: ${l.fix}`);
  }
  const count = (s: CheckLine['status']) => lines.filter((l) => l.status === s).length;
  out.push('');
  out.push(
    count('miss')
      ? `${count('miss')} missed, ${count('ok')} ok, ${count('skip')} skipped: fix the misses above and run npm run doctor again.`
      : `All ${count('ok')} checks ok${count('skip') ? `, ${count('skip')} skipped` : ''}.`,
  );
  return `${out.join('\n')}\n`;
}

export async function main(
  argv: string[],
  env: Record<string, string | undefined>,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
): Promise<number> {
  let options: DoctorOptions | 'help';
  try {
    options = parseDoctorArgs(argv, env);
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`doctor: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (options === 'help') {
    stdout.write(`${USAGE}\n`);
    return 0;
  }
  const lines = await runChecks(options);
  stdout.write(formatChecklist(lines, options));
  return lines.some((l) => l.status === 'miss') ? 1 : 0;
}

if (require.main === module) {
  let finished = false;
  // Should a request ever hang with nothing holding the event loop open, node would exit 0 without a word.
  process.once('beforeExit', () => {
    if (finished) return;
    process.stdout.write('doctor: a check ended without an answer; treat the stack as not ready\n');
    process.exitCode = 1;
  });
  main(process.argv.slice(2), process.env, process.stdout, process.stderr).then(
    (code) => {
      finished = true;
      process.exitCode = code;
    },
    (err: unknown) => {
      finished = true;
      // A bug in the doctor itself: still one line, never a stack trace.
      process.stderr.write(`doctor failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
