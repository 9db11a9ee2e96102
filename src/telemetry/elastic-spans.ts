import type { RequestSpans } from './tracer';

/** The slice of the elastic-apm-node Agent API the app uses. */
export interface ElasticAgentLike {
  isStarted(): boolean;
  /** The W3C traceparent of the current span or transaction; null outside one. */
  readonly currentTraceparent: string | null;
  readonly currentTransaction: { setLabel(name: string, value: string | number | boolean, stringify?: boolean): boolean } | null;
  captureError(err: Error): void;
  flush(): Promise<void>;
}

/** W3C traceparent: version, trace id, parent (span) id, flags. */
const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;

/** The request's transaction through the Elastic agent (APM_AGENT=elastic). */
export function elasticSpans(agent: ElasticAgentLike): RequestSpans {
  return {
    currentTraceIds() {
      // The agent's traceparent holds all three fields, of its current span or else its transaction.
      const [, traceId, spanId, flags] = TRACEPARENT.exec(agent.currentTraceparent ?? '') ?? [];
      return traceId && spanId && flags ? { trace_id: traceId, span_id: spanId, trace_flags: flags } : undefined;
    },

    annotate(attributes) {
      const tx = agent.currentTransaction;
      if (!tx) return;
      for (const [k, v] of Object.entries(attributes)) {
        // stringify=false keeps numbers numeric in Elasticsearch, so they can be ranged and aggregated.
        // The agent would replace the dots itself, but logs a warning for every such call.
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') tx.setLabel(k.replace(/[.*"]/g, '_'), v, false);
      }
    },

    recordError(err) {
      agent.captureError(err);
    },
  };
}
