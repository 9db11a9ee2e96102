import type { Attributes } from '@opentelemetry/api';
import { openTelemetrySpans } from './request-span';

/**
 * The trace context of a log record, under the field names of OpenTelemetry's
 * trace-context-in-non-OTLP-logs compatibility spec: lowercase hex, with trace_flags
 * as two digits ("01" when the trace is sampled, "00" when it is not).
 */
export interface TraceIds {
  trace_id: string;
  span_id: string;
  trace_flags: string;
}

/**
 * What the app asks of the tracer, whichever one runs: the seam between the app and the
 * OpenTelemetry SDK or the Elastic agent. register.ts picks the implementation once.
 */
export interface RequestSpans {
  /** The ids of the span active in the current async context. */
  currentTraceIds(): TraceIds | undefined;
  /** Business attributes on the request's span. */
  annotate(attributes: Attributes): void;
  /** Marks the request failed with this error and the code its response carries. */
  recordError(err: Error, code: string): void;
}

let active: RequestSpans = openTelemetrySpans;

/** Called once by the register module when another tracer than OpenTelemetry runs. */
export function useRequestSpans(spans: RequestSpans): void {
  active = spans;
}

/** The ids that go on log lines and exemplars, so a metric, a log line and a trace point to one another. */
export function currentTraceIds(): TraceIds | undefined {
  return active.currentTraceIds();
}

/** Adds business attributes (cloudmart.cache.hit, cloudmart.order.id) to the request's span. */
export function annotateSpan(attributes: Attributes): void {
  active.annotate(attributes);
}

/** Marks the request's span failed (the error handler's 5xx). */
export function recordSpanError(err: Error, code: string): void {
  active.recordError(err, code);
}
