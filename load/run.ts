import autocannon, { type Result } from 'autocannon';
import type { Catalog, Scenario } from './scenarios';

export interface RunSettings {
  baseUrl: string;
  scenario: Scenario;
  catalog: Catalog;
  connections: number;
  durationSeconds: number;
  rate?: number;
  amount: number;
  /** Where progress goes (stderr): stdout stays free for the summary. */
  progress: NodeJS.WriteStream;
  signal: AbortSignal;
}

/**
 * One autocannon run, bounded by duration and by request count (whichever comes
 * first), stopped early when `signal` aborts. Resolves with autocannon's result.
 */
export function runLoad(s: RunSettings): Promise<Result> {
  return new Promise<Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: s.baseUrl,
        title: s.scenario.name,
        // maxOverallRequests cannot be lower than the connection count.
        connections: Math.min(s.connections, s.amount),
        duration: s.durationSeconds,
        // Unlike `amount`, this cap keeps the duration limit in force as well.
        maxOverallRequests: s.amount,
        overallRate: s.rate,
        timeout: 10,
        requests: s.scenario.requests(s.catalog),
      },
      (err: unknown, result) => (err ? reject(err instanceof Error ? err : new Error('the load generator failed', { cause: err })) : resolve(result)),
    );
    const tty = s.progress.isTTY;
    autocannon.track(instance, { outputStream: s.progress, renderProgressBar: tty, renderResultsTable: false });
    if (!tty) reportEvery(5, instance, s.progress);
    const stop = () => instance.stop();
    if (s.signal.aborted) stop();
    else s.signal.addEventListener('abort', stop, { once: true });
    instance.once('done', () => s.signal.removeEventListener('abort', stop));
  });
}

/** Without a terminal there is no progress bar: a line every few seconds instead (CI, docker logs). */
function reportEvery(seconds: number, instance: autocannon.Instance, out: NodeJS.WritableStream): void {
  let elapsed = 0;
  let responses = 0;
  let serverErrors = 0;
  instance.on('response', (_client, statusCode) => {
    responses += 1;
    if (statusCode >= 500) serverErrors += 1;
  });
  instance.on('tick', () => {
    elapsed += 1;
    if (elapsed % seconds === 0) out.write(`  ${elapsed}s  ${responses} responses  ${(responses / elapsed).toFixed(0)} req/s  ${serverErrors} 5xx\n`);
  });
}
