/**
 * The register module starts a tracer long before server.ts runs; this is how the
 * server, which owns the process lifecycle, flushes it last during shutdown.
 */
type Flush = () => Promise<void>;

const flushers: Flush[] = [];

export function onTelemetryShutdown(flush: Flush): void {
  flushers.push(flush);
}

export async function shutdownTelemetry(): Promise<void> {
  await Promise.allSettled(flushers.splice(0).map((f) => f()));
}
