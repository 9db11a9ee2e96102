import { z } from 'zod';
import { excerpt, httpGet, parseBody, type HttpResult } from './http';
import type { DoctorOptions } from './options';
import { COMPOSE, miss, ok, skip, stranger, unreachable, type CheckLine, type Subject } from './probe';

const apmRootSchema = z.object({ version: z.string(), publish_ready: z.boolean().optional() });
const kibanaStatusSchema = z.object({ status: z.object({ overall: z.object({ level: z.string(), summary: z.string().optional() }) }) });
const countSchema = z.object({ count: z.number() });

export interface ElasticProbe {
  /** Whether the Elastic profile is to be checked (asked for, or something of it answers). */
  running: boolean;
  lines: CheckLine[];
}

const at = (check: string, service: string): Subject => ({ component: 'elastic', check, service, profile: 'elastic' });

/**
 * The Elastic profile's APM server, Kibana and the backend's spans in Elasticsearch. Its three
 * answers are read by hand, not probed: whether all three are silent decides if it is checked at all.
 */
export async function checkElastic(o: DoctorOptions): Promise<ElasticProbe> {
  const { kibana, apmServer, elasticsearch } = o.urls;
  if (o.elastic === false || !o.components.includes('elastic'))
    return { running: false, lines: [skip('elastic', 'Kibana / APM server', 'not checked (--no-elastic or --skip elastic)')] };
  const [k, a, e] = await Promise.all([httpGet(`${kibana}/api/status`, o), httpGet(`${apmServer}/`, o), httpGet(`${elasticsearch}/`, o)]);
  if (o.elastic === undefined && k.kind === 'unreachable' && a.kind === 'unreachable' && e.kind === 'unreachable') {
    const hosts = [kibana, apmServer, elasticsearch].map((u) => new URL(u).host).join(', ');
    return {
      running: false,
      lines: [skip('elastic', 'Kibana / APM server', `Elastic profile not running (nothing answers on ${hosts}); pass --elastic to require it`)],
    };
  }
  return { running: true, lines: [apmLine(a, apmServer), kibanaLine(k, kibana), await tracesLine(o, e)] };
}

function apmLine(a: HttpResult, apmServer: string): CheckLine {
  const s = at('APM server', 'apm-server');
  if (a.kind === 'unreachable') return unreachable(s, apmServer, a.reason);
  const body = parseBody(a.text, apmRootSchema);
  if (!body) return stranger(s, apmServer, a, 'the APM server');
  if (body.publish_ready === false)
    return miss(
      'elastic',
      s.check,
      `APM server ${body.version} up but not ready to publish`,
      `it waits for Elasticsearch: ${COMPOSE} ps elasticsearch (healthy?)`,
    );
  return ok('elastic', s.check, `${apmServer} APM server ${body.version} ready`);
}

function kibanaLine(k: HttpResult, kibana: string): CheckLine {
  const s = at('Kibana', 'kibana');
  if (k.kind === 'unreachable') return unreachable(s, kibana, k.reason);
  const overall = parseBody(k.text, kibanaStatusSchema)?.status.overall;
  if (!overall) return stranger(s, `${kibana}/api/status`, k, "Kibana's status API");
  if (overall.level === 'available') return ok('elastic', s.check, `${kibana} available`);
  const detail = `Kibana is ${overall.level}${overall.summary ? `: ${excerpt(overall.summary, 90)}` : ''}`;
  return miss('elastic', s.check, detail, `Kibana needs 1–2 minutes after Elasticsearch is healthy; else ${COMPOSE} logs --tail=50 kibana`);
}

async function tracesLine(o: DoctorOptions, e: HttpResult): Promise<CheckLine> {
  const s = at(`APM traces of ${o.service}`, 'elasticsearch');
  const url = `${o.urls.elasticsearch}/traces-apm*/_count?q=${encodeURIComponent(`service.name:"${o.service}"`)}`;
  const c = e.kind === 'unreachable' ? e : await httpGet(url, o);
  if (c.kind === 'unreachable') return unreachable(s, o.urls.elasticsearch, c.reason);
  const body = parseBody(c.text, countSchema);
  if (!body) return stranger(s, url, c, "Elasticsearch's count API");
  if (body.count > 0) return ok('elastic', s.check, `${body.count} APM documents of ${o.service} in traces-apm*`);
  const fix = `the backend sends OTLP to ELASTIC_APM_SERVER_URL (http://apm-server:8200) as well as to Jaeger: send a few requests; if you started the profile after the backend, ${COMPOSE} --profile elastic up -d and ${COMPOSE} restart backend`;
  return miss('elastic', s.check, `Elasticsearch holds no APM span of ${o.service}`, fix);
}
