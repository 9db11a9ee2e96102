import { setTimeout as sleep } from 'node:timers/promises';

export interface Traffic {
  readonly statuses: Map<number, number>;
  readonly sent: () => number;
  stop(): Promise<void>;
}

/**
 * Steady background requests for tests that need live series (Prometheus rates,
 * alerts). Loopback only, and bounded twice: by request count and by time, so a
 * failed test can never leave load running.
 */
export function startTraffic(opts: { baseUrl: string; paths: string[]; workers: number; maxRequests: number; maxMs: number; pauseMs?: number }): Traffic {
  const host = new URL(opts.baseUrl).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) throw new Error(`traffic only to loopback, not ${host}`);
  const statuses = new Map<number, number>();
  const deadline = Date.now() + opts.maxMs;
  let sent = 0;
  let stopped = false;
  const worker = async (w: number) => {
    for (let i = w; !stopped && sent < opts.maxRequests && Date.now() < deadline; i++) {
      sent += 1;
      const path = opts.paths[i % opts.paths.length] ?? '/';
      const status = await fetch(`${opts.baseUrl}${path}`, { signal: AbortSignal.timeout(5000) }).then(
        async (r) => (await r.arrayBuffer(), r.status),
        () => 0,
      );
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (opts.pauseMs) await sleep(opts.pauseMs);
    }
  };
  const running = Promise.all(Array.from({ length: opts.workers }, (_, w) => worker(w)));
  return {
    statuses,
    sent: () => sent,
    async stop() {
      stopped = true;
      await running;
    },
  };
}
