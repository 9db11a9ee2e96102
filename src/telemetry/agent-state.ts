/**
 * Which tracer the register module started. Kept in a module of its own, free of
 * instrumented imports, so app code can ask without loading either agent.
 */

/** The slice of the elastic-apm-node Agent API the app uses. */
export interface ElasticAgentLike {
  isStarted(): boolean;
  readonly currentTraceIds: Record<string, string | undefined>;
  readonly currentTransaction: { setLabel(name: string, value: string | number | boolean, stringify?: boolean): boolean } | null;
  captureError(err: Error): void;
  flush(): Promise<void>;
}

export type TracerKind = 'otel' | 'elastic' | 'none';

let kind: TracerKind = 'none';
let elastic: ElasticAgentLike | undefined;

export function setActiveTracer(next: TracerKind, agent?: ElasticAgentLike): void {
  kind = next;
  elastic = agent;
}

export function activeTracer(): TracerKind {
  return kind;
}

export function elasticAgent(): ElasticAgentLike | undefined {
  return elastic;
}
