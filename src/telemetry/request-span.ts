import { context, isSpanContextValid, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { getRPCMetadata } from '@opentelemetry/core';
import { elasticAgent } from './active-tracer';
import { recordedOnChild } from './child-errors';

/**
 * The request's server span (the http instrumentation keeps it in the context's RPC
 * metadata), else the active span. Request-level attributes belong on the server
 * span: it is the one Jaeger and Kibana list and search.
 */
function requestSpan(): Span | undefined {
  return getRPCMetadata(context.active())?.span ?? trace.getActiveSpan();
}

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

/** W3C traceparent: version, trace id, parent (span) id, flags. */
const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;

/**
 * The ids of the span active in the current async context, whichever tracer runs.
 * They go on log lines and exemplars so a metric, a log line and a trace point to one another.
 */
export function currentTraceIds(): TraceIds | undefined {
  const agent = elasticAgent();
  if (agent) {
    // The agent's traceparent holds all three fields, of its current span or else its transaction.
    const [, traceId, spanId, flags] = TRACEPARENT.exec(agent.currentTraceparent ?? '') ?? [];
    return traceId && spanId && flags ? { trace_id: traceId, span_id: spanId, trace_flags: flags } : undefined;
  }
  const ctx = trace.getActiveSpan()?.spanContext();
  if (!ctx || !isSpanContextValid(ctx)) return undefined;
  return { trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: ctx.traceFlags.toString(16).padStart(2, '0') };
}

/** Adds business attributes to the current span (OpenTelemetry) or transaction labels (Elastic). */
export function annotateSpan(attributes: Attributes): void {
  const agent = elasticAgent();
  if (agent) {
    const tx = agent.currentTransaction;
    if (!tx) return;
    for (const [k, v] of Object.entries(attributes)) {
      // stringify=false keeps numbers numeric in Elasticsearch, so they can be ranged and aggregated.
      // The agent would replace the dots itself, but logs a warning for every such call.
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') tx.setLabel(k.replace(/[.*"]/g, '_'), v, false);
    }
    return;
  }
  requestSpan()?.setAttributes(attributes);
}

/** The server span attribute holding the error code the response carries (`CHAOS_INJECTED`, `INTERNAL`). */
export const ERROR_CODE_ATTRIBUTE = 'cloudmart.error.code';

/**
 * Marks the request's span failed, as OpenTelemetry's guidance on recording errors asks:
 * status ERROR with the error's message, and the response's error code in its own
 * attribute (the http instrumentation sets error.type to the status code, "500", as the
 * response ends). One failure is recorded once: an exception event is added only when no
 * child span has recorded the error already (a query Postgres refused is on its pg span).
 * The event's exception.type is the error's class (AppError, DatabaseError), not its code.
 */
export function recordSpanError(err: Error, code: string): void {
  const agent = elasticAgent();
  if (agent) {
    agent.captureError(err);
    return;
  }
  const span = requestSpan();
  if (!span) return;
  span.setAttribute(ERROR_CODE_ATTRIBUTE, code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
  // Without `code`, the SDK takes exception.type from the name given here.
  if (!recordedOnChild(span, err)) span.recordException({ name: err.constructor.name || err.name, message: err.message, stack: err.stack });
}
