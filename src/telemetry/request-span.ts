import { context, isSpanContextValid, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { getRPCMetadata } from '@opentelemetry/core';
import { recordedOnChild } from './child-errors';
import type { RequestSpans } from './tracer';

/** The server span attribute holding the error code the response carries (`CHAOS_INJECTED`, `INTERNAL`). */
export const ERROR_CODE_ATTRIBUTE = 'cloudmart.error.code';

/**
 * The request's server span (the http instrumentation keeps it in the context's RPC
 * metadata), else the active span. Request-level attributes belong on the server
 * span: it is the one Jaeger and Kibana list and search.
 */
function requestSpan(): Span | undefined {
  return getRPCMetadata(context.active())?.span ?? trace.getActiveSpan();
}

/** The request's span through the OpenTelemetry API: the default, and a no-op when no SDK runs. */
export const openTelemetrySpans: RequestSpans = {
  currentTraceIds() {
    const ctx = trace.getActiveSpan()?.spanContext();
    if (!ctx || !isSpanContextValid(ctx)) return undefined;
    return { trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: ctx.traceFlags.toString(16).padStart(2, '0') };
  },

  annotate(attributes) {
    requestSpan()?.setAttributes(attributes);
  },

  /**
   * As OpenTelemetry's guidance on recording errors asks: status ERROR with the error's
   * message, and the response's error code in its own attribute (the http instrumentation
   * sets error.type to the status code, "500", as the response ends). One failure is
   * recorded once: an exception event is added only when no child span has recorded the
   * error already (a query Postgres refused is on its pg span). The event's exception.type
   * is the error's class (AppError, DatabaseError), not its code.
   */
  recordError(err, code) {
    const span = requestSpan();
    if (!span) return;
    span.setAttribute(ERROR_CODE_ATTRIBUTE, code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    // Without `code`, the SDK takes exception.type from the name given here.
    if (!recordedOnChild(span, err)) span.recordException({ name: err.constructor.name || err.name, message: err.message, stack: err.stack });
  },
};
