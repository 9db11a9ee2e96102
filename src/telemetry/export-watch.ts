import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

export interface ExportWatchEvents {
  failing(target: string, error: string): void;
  recovered(target: string): void;
}

/**
 * Wraps a span exporter to report a backend going away once, and coming back once,
 * instead of a line per failed batch. The batch processor's bounded queue already
 * drops spans when the backend is gone; this only keeps the logs readable.
 */
export class WatchedExporter implements SpanExporter {
  private failing = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly target: string,
    private readonly events: ExportWatchEvents,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) {
        if (this.failing) this.events.recovered(this.target);
        this.failing = false;
      } else if (!this.failing) {
        this.failing = true;
        this.events.failing(this.target, result.error?.message ?? 'unknown error');
      }
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
