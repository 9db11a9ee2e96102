/**
 * The register module starts a tracer long before server.ts runs; this is how the
 * server, which owns the process lifecycle, flushes it last during shutdown.
 */
import { withTimeout } from '../timeout';

type Flush = () => Promise<void>;

const flushers: Flush[] = [];

export function onTelemetryShutdown(flush: Flush): void {
  flushers.push(flush);
}

/**
 * Flushes pending spans, but gives up after timeoutMs: an unreachable collector
 * (whose exporter retries with backoff) must not hold a stopping container hostage.
 */
export async function shutdownTelemetry(timeoutMs = 3000): Promise<void> {
  await withTimeout(Promise.allSettled(flushers.splice(0).map((f) => f())), timeoutMs, () => []);
}
