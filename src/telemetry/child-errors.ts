import { SpanStatusCode, type Span as ApiSpan } from '@opentelemetry/api';
import type { Span, SpanProcessor } from '@opentelemetry/sdk-trace';

/** Status messages of the failed children of spans still open, by the parent's span id. */
const failedChildren = new Map<string, Set<string>>();
/** A bound in case children fail after their parent ended: such entries are never removed. */
const MAX_PARENTS = 10_000;

/**
 * Remembers, while a span is open, which errors its children ended with (their status
 * message), so the request's error handler can tell an error a child span already recorded
 * (a query Postgres refused, on its pg span) from one no span has yet.
 */
export class ChildErrors implements SpanProcessor {
  onStart(): void {}

  onEnding(span: Span): void {
    // A span that ends needs no list of its children any more.
    failedChildren.delete(span.spanContext().spanId);
    const parent = span.parentSpanContext;
    const message = span.status.message;
    // A remote parent never ends in this process, so nothing would remove its entry.
    if (!parent || parent.isRemote || span.status.code !== SpanStatusCode.ERROR || !message) return;
    if (failedChildren.size >= MAX_PARENTS) failedChildren.clear();
    const messages = failedChildren.get(parent.spanId) ?? new Set<string>();
    messages.add(message);
    failedChildren.set(parent.spanId, messages);
  }

  onEnd(): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    failedChildren.clear();
    return Promise.resolve();
  }
}

/** True when a child of the span ended with this error (its status message is the error's). */
export function recordedOnChild(span: ApiSpan, err: Error): boolean {
  return failedChildren.get(span.spanContext().spanId)?.has(err.message) ?? false;
}
