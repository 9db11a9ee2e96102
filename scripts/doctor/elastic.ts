import { z } from 'zod';
import { excerpt, httpGet, type HttpResult } from './http';
import type { DoctorOptions } from './options';
import { COMPOSE, miss, ok, read, skip, type CheckLine, type Subject } from './probe';

const apmRootSchema = z.object({ version: z.string(), publish_ready: z.boolean().optional() });
const kibanaStatusSchema = z.object({ status: z.object({ overall: z.object({ level: z.string(), summary: z.string().optional() }) }) });
const countSchema = z.object({ count: z.number() });

const at = (check: string, service: string): Subject => ({ component: 'elastic', check, service, profile: 'elastic' });
const PROFILE = { component: 'elastic', check: 'Kibana / APM server' } as const;

/**
 * The Elastic profile's APM server, Kibana and the backend's spans in Elasticsearch. Its three
 * answers are fetched before they are read: whether all three are silent decides if it is checked at all
 * (`running`: asked for, or something of it answers).
 */
export async function checkElastic(o: DoctorOptions): Promise<{ running: boolean; lines: CheckLine[] }> {
  const { kibana, apmServer, elasticsearch } = o.urls;
  if (o.elastic === false || !o.components.includes('elastic'))
    return { running: false, lines: [skip(PROFILE, 'not checked (--no-elastic or --skip elastic)')] };
  const [k, a, e] = await Promise.all([httpGet(`${kibana}/api/status`, o), httpGet(`${apmServer}/`, o), httpGet(`${elasticsearch}/`, o)]);
  if (o.elastic === undefined && k.kind === 'unreachable' && a.kind === 'unreachable' && e.kind === 'unreachable') {
    const hosts = [kibana, apmServer, elasticsearch].map((u) => new URL(u).host).join(', ');
    return { running: false, lines: [skip(PROFILE, `Elastic profile not running (nothing answers on ${hosts}); pass --elastic to require it`)] };
  }
  return { running: true, lines: [apmLine(a, apmServer), kibanaLine(k, kibana), await tracesLine(o, e)] };
}

function apmLine(a: HttpResult, apmServer: string): CheckLine {
  const s = at('APM server', 'apm-server');
  const r = read(a, s, apmServer, apmRootSchema, 'the APM server');
  if (r.line) return r.line;
  if (r.body.publish_ready === false)
    return miss(s, `APM server ${r.body.version} up but not ready to publish`, `it waits for Elasticsearch: ${COMPOSE} ps elasticsearch (healthy?)`);
  return ok(s, `${apmServer} APM server ${r.body.version} ready`);
}

function kibanaLine(k: HttpResult, kibana: string): CheckLine {
  const s = at('Kibana', 'kibana');
  const r = read(k, s, `${kibana}/api/status`, kibanaStatusSchema, "Kibana's status API", { shown: kibana });
  if (r.line) return r.line;
  const { level, summary } = r.body.status.overall;
  if (level === 'available') return ok(s, `${kibana} available`);
  const fix = `Kibana needs 1–2 minutes after Elasticsearch is healthy; else ${COMPOSE} logs --tail=50 kibana`;
  return miss(s, `Kibana is ${level}${summary ? `: ${excerpt(summary, 90)}` : ''}`, fix);
}

async function tracesLine(o: DoctorOptions, e: HttpResult): Promise<CheckLine> {
  const s = at(`APM traces of ${o.service}`, 'elasticsearch');
  const url = `${o.urls.elasticsearch}/traces-apm*/_count?q=${encodeURIComponent(`service.name:"${o.service}"`)}`;
  const r = read(e.kind === 'unreachable' ? e : await httpGet(url, o), s, url, countSchema, "Elasticsearch's count API", { shown: o.urls.elasticsearch });
  if (r.line) return r.line;
  if (r.body.count > 0) return ok(s, `${r.body.count} APM documents of ${o.service} in traces-apm*`);
  const fix = `the backend's spans reach the APM server through its collector only with OTELCOL_EXPORT=elastic: OTELCOL_EXPORT=elastic ${COMPOSE} --profile elastic up -d (or set it in compose/.env), send a few requests; still none: ${COMPOSE} logs otel-collector | grep -i error (with APM_AGENT=elastic the backend's agent reports to the APM server itself: ${COMPOSE} logs backend | grep -i apm)`;
  return miss(s, `Elasticsearch holds no APM span of ${o.service}`, fix);
}
