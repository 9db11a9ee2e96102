/**
 * npm run load -- <scenario> [options]   (see load/args.ts for the options)
 *
 * The first SIGINT, SIGTERM or SIGHUP stops the load and still switches an injected
 * fault off; only a second Ctrl-C quits at once. (A closing terminal may send SIGHUP
 * right after a Ctrl-C: that must not skip the clean-up.)
 */
import { main } from './main';

const stop = new AbortController();
function onSignal(signal: NodeJS.Signals): void {
  if (!stop.signal.aborted) {
    process.stderr.write(`\n${signal}: stopping (and switching any fault off); press Ctrl-C again to quit at once\n`);
    stop.abort();
    return;
  }
  if (signal !== 'SIGINT') return;
  process.stderr.write('quitting: a fault may stay on until its ttl; DELETE /api/admin/chaos clears it now\n');
  process.exit(130);
}
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }, stop.signal).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
