/**
 * Which tracer the register module started. Kept in a module of its own, free of
 * instrumented imports, so app code can ask without loading either agent.
 */

/** The slice of the elastic-apm-node Agent API the app uses. */
export interface ElasticAgentLike {
  isStarted(): boolean;
  /** The W3C traceparent of the current span or transaction; null outside one. */
  readonly currentTraceparent: string | null;
  readonly currentTransaction: { setLabel(name: string, value: string | number | boolean, stringify?: boolean): boolean } | null;
  captureError(err: Error): void;
  flush(): Promise<void>;
}

let elastic: ElasticAgentLike | undefined;

/** Set once by the register module when APM_AGENT=elastic; otherwise the OpenTelemetry API answers. */
export function setElasticAgent(agent: ElasticAgentLike): void {
  elastic = agent;
}

export function elasticAgent(): ElasticAgentLike | undefined {
  return elastic;
}
