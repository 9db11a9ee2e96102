import { z } from 'zod';
import { expectedDatasourceUids } from '../lib/stack-config';
import { excerpt, httpGet, parseBody } from './http';
import type { DoctorOptions } from './options';
import { COMPOSE, miss, ok, probe, skip, type CheckLine, type Subject } from './probe';

const healthSchema = z.object({ database: z.string(), version: z.string().optional() });
const datasourcesSchema = z.array(z.object({ uid: z.string(), name: z.string(), type: z.string() }));
const dsHealthSchema = z.object({ status: z.string().optional(), message: z.string().optional() });

const at = (check: string): Subject => ({ component: 'grafana', check, service: 'grafana' });

/** Grafana up, its datasources provisioned, and each healthy (Elasticsearch only with the Elastic profile running). */
export async function checkGrafana(o: DoctorOptions, elasticRunning: Promise<boolean>): Promise<CheckLine[]> {
  const base = o.urls.grafana;
  const r = await probe(o, at('up'), `${base}/api/health`, healthSchema, "Grafana's /api/health", { shown: base });
  if (r.line) return r.answer ? [r.line] : [r.line, skip('grafana', 'datasources', 'Grafana does not answer')];
  if (r.status !== 200 || r.body.database !== 'ok') {
    const fix = `${COMPOSE} logs --tail=50 grafana; a damaged grafana-data volume is reset by ${COMPOSE} down and docker volume rm cloudmart_grafana-data`;
    return [miss('grafana', 'up', `${base}/api/health: database ${r.body.database}`, fix)];
  }
  const lines = [ok('grafana', 'up', `${base} up${r.body.version ? ` (version ${r.body.version})` : ''}`)];

  const auth = { ...o, headers: { authorization: `Basic ${Buffer.from(`${o.grafanaUser}:${o.grafanaPassword}`).toString('base64')}` } };
  const dsUrl = `${base}/api/datasources`;
  const d = await probe(auth, at('datasources'), dsUrl, datasourcesSchema, "Grafana's datasources API", { shown: base });
  if (d.line && (d.answer?.status === 401 || d.answer?.status === 403)) {
    const detail = `${dsUrl}: ${d.answer.status}, Grafana refused user ${o.grafanaUser} with the password from ${o.grafanaPasswordSource}`;
    const fix = `give the doctor the admin password: GRAFANA_ADMIN_PASSWORD=... npm run doctor (the value in compose/.env, or the one you changed it to at first login); --grafana-user for another user`;
    return [...lines, miss('grafana', 'datasources', detail, fix)];
  }
  if (d.line) return [...lines, d.line];
  const uids = new Set(d.body.map((x) => x.uid));
  const notProvisioned = expectedDatasourceUids().filter((u) => !uids.has(u));
  const withElastic = await elasticRunning;
  const results = await Promise.all(
    d.body.map(async (ds) => {
      if (ds.type === 'elasticsearch' && !withElastic) return { ds, state: 'skipped' as const, message: 'Elastic profile not running' };
      const h = await httpGet(`${base}/api/datasources/uid/${encodeURIComponent(ds.uid)}/health`, auth);
      if (h.kind === 'unreachable') return { ds, state: 'error' as const, message: h.reason };
      // Grafana answers 404 for a plugin that has no health check: nothing to judge.
      if (h.status === 404) return { ds, state: 'unchecked' as const, message: 'no health check' };
      const body = parseBody(h.text, dsHealthSchema);
      if (h.status === 200 && body?.status === 'OK') return { ds, state: 'ok' as const, message: body.message ?? '' };
      return { ds, state: 'error' as const, message: body?.message ?? `${h.status} ${excerpt(h.text, 60)}` };
    }),
  );
  const failing = results.filter((x) => x.state === 'error');
  if (notProvisioned.length || failing.length) {
    const parts = [
      ...(notProvisioned.length ? [`not provisioned: ${notProvisioned.join(', ')}`] : []),
      ...failing.map((x) => `${x.ds.name}: ${excerpt(x.message, 100)}`),
    ];
    const fix = `each datasource reaches its service by Compose name (docker/grafana/provisioning/datasources/datasources.yml): is that service up (${COMPOSE} ps)? After editing provisioning: ${COMPOSE} restart grafana`;
    return [...lines, miss('grafana', 'datasources', parts.join('; '), fix)];
  }
  const healthy = results.filter((x) => x.state === 'ok').map((x) => x.ds.name);
  const notes = results.filter((x) => x.state !== 'ok').map((x) => `${x.ds.name} ${x.state}: ${x.message}`);
  return [...lines, ok('grafana', 'datasources', `${healthy.length} healthy: ${healthy.join(', ')}${notes.length ? ` (${notes.join('; ')})` : ''}`)];
}
