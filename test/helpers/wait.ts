import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls until fn returns something other than undefined, and returns it; fails
 * with `what` in the message after timeoutMs. For things that happen
 * asynchronously in another process (a span exported, an alert firing).
 */
export async function eventually<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(opts.intervalMs ?? 50);
  }
}
