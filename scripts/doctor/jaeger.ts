import { z } from 'zod';
import type { DoctorOptions } from './options';
import { COMPOSE, miss, ok, probe, type CheckLine, type Subject } from './probe';

const servicesSchema = z.object({ data: z.array(z.string()).nullable() });
const span = z.object({ operationName: z.string(), startTime: z.number(), references: z.array(z.object({ refType: z.string() })).nullish() });
const tracesSchema = z.object({ data: z.array(z.object({ traceID: z.string(), spans: z.array(span) })).nullable() });

/** Jaeger knows the service and holds a trace of it from within the lookback. */
export async function checkJaeger(o: DoctorOptions): Promise<CheckLine[]> {
  const base = o.urls.jaeger;
  const s: Subject = { component: 'jaeger', check: `traces of ${o.service}`, service: 'jaeger' };
  const r = await probe(o, s, `${base}/api/services`, servicesSchema, "Jaeger's query API", { shown: base, need200: true });
  if (r.line) return [r.line];
  const known = r.body.data ?? [];
  const noTraces = `send a request (curl -s ${o.urls.backend}/api/products) and wait 5 s: spans leave in batches; still none: ${COMPOSE} logs backend | grep "span export" (its target is the endpoint that failed: the collector, http://otel-collector:4318/v1/traces), then ${COMPOSE} logs otel-collector | grep -i error (the collector sends to jaeger:4317)`;
  if (!known.includes(o.service)) return [miss(s, `Jaeger has no service ${o.service} (it knows: ${known.join(', ') || 'none'})`, noTraces)];
  const endUs = Date.now() * 1000;
  const startUs = endUs - o.lookbackSeconds * 1_000_000;
  const tUrl = `${base}/api/traces?service=${encodeURIComponent(o.service)}&start=${startUs}&end=${endUs}&limit=1`;
  const traces = await probe(o, s, tUrl, tracesSchema, "Jaeger's traces API", { shown: base });
  if (traces.line) return [traces.line];
  const latest = traces.body.data?.[0];
  if (!latest) return [miss(s, `no trace of ${o.service} in the last ${o.lookbackSeconds / 60} minutes`, noTraces)];
  const root = latest.spans.find((x) => !x.references?.some((ref) => ref.refType === 'CHILD_OF')) ?? latest.spans[0];
  const ago = root ? Math.max(0, Math.round((endUs - root.startTime) / 1_000_000)) : 0;
  return [ok(s, `latest trace ${latest.traceID}: ${root?.operationName ?? '?'}, ${latest.spans.length} span(s), ${ago} s ago`)];
}
