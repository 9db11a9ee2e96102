import { z } from 'zod';
import { expectedDatasourceUids } from '../lib/stack-config';
import { excerpt, httpGet, parseBody } from './http';
import type { DoctorOptions } from './options';
import { COMPOSE, miss, notAnswered, ok, probe, type CheckLine, type Subject } from './probe';

const healthSchema = z.object({ database: z.string(), version: z.string().optional() });
const datasourcesSchema = z.array(z.object({ uid: z.string(), name: z.string(), type: z.string() }));
const dsHealthSchema = z.object({ status: z.string().optional(), message: z.string().optional() });

const UP: Subject = { component: 'grafana', check: 'up', service: 'grafana' };
const DATASOURCES: Subject = { ...UP, check: 'datasources' };

/** Grafana up, its datasources provisioned, and each healthy (Elasticsearch only with the Elastic profile running). */
export async function checkGrafana(o: DoctorOptions, elasticRunning: Promise<boolean>): Promise<CheckLine[]> {
  const base = o.urls.grafana;
  const r = await probe(o, UP, `${base}/api/health`, healthSchema, "Grafana's /api/health", { shown: base });
  if (r.line) return notAnswered(r, 'Grafana does not answer', DATASOURCES);
  if (r.status !== 200 || r.body.database !== 'ok') {
    const fix = `${COMPOSE} logs --tail=50 grafana; a damaged grafana-data volume is reset by ${COMPOSE} down and docker volume rm cloudmart_grafana-data`;
    return [miss(UP, `${base}/api/health: database ${r.body.database}`, fix)];
  }
  const up = ok(UP, `${base} up${r.body.version ? ` (version ${r.body.version})` : ''}`);

  const auth = { ...o, headers: { authorization: `Basic ${Buffer.from(`${o.grafanaUser}:${o.grafanaPassword}`).toString('base64')}` } };
  const d = await probe(auth, DATASOURCES, `${base}/api/datasources`, datasourcesSchema, "Grafana's datasources API", { shown: base });
  if (d.answer?.status === 401 || d.answer?.status === 403) {
    const detail = `${base}/api/datasources: ${d.answer.status}, Grafana refused user ${o.grafanaUser} with the password from ${o.grafanaPasswordSource}`;
    const fix = `give the doctor the admin password: GRAFANA_ADMIN_PASSWORD=... npm run doctor (the value in compose/.env, or the one you changed it to at first login); --grafana-user for another user`;
    return [up, miss(DATASOURCES, detail, fix)];
  }
  if (d.line) return [up, d.line];
  const uids = new Set(d.body.map((x) => x.uid));
  const notProvisioned = expectedDatasourceUids().filter((u) => !uids.has(u));
  const withElastic = await elasticRunning;
  const results = await Promise.all(
    d.body.map(async (ds) => {
      if (ds.type === 'elasticsearch' && !withElastic) return { ds, state: 'skipped', message: 'Elastic profile not running' } as const;
      const h = await httpGet(`${base}/api/datasources/uid/${encodeURIComponent(ds.uid)}/health`, auth);
      if (h.kind === 'unreachable') return { ds, state: 'error', message: h.reason } as const;
      // Grafana answers 404 for a plugin that has no health check: nothing to judge.
      if (h.status === 404) return { ds, state: 'unchecked', message: 'no health check' } as const;
      const body = parseBody(h.text, dsHealthSchema);
      if (h.status === 200 && body?.status === 'OK') return { ds, state: 'ok', message: body.message ?? '' } as const;
      return { ds, state: 'error', message: body?.message ?? `${h.status} ${excerpt(h.text, 60)}` } as const;
    }),
  );
  const failing = results.filter((x) => x.state === 'error');
  if (notProvisioned.length || failing.length) {
    const parts = [
      ...(notProvisioned.length ? [`not provisioned: ${notProvisioned.join(', ')}`] : []),
      ...failing.map((x) => `${x.ds.name}: ${excerpt(x.message, 100)}`),
    ];
    const fix = `each datasource reaches its service by Compose name (docker/grafana/provisioning/datasources/datasources.yml): is that service up (${COMPOSE} ps)? After editing provisioning: ${COMPOSE} restart grafana`;
    return [up, miss(DATASOURCES, parts.join('; '), fix)];
  }
  const healthy = results.filter((x) => x.state === 'ok').map((x) => x.ds.name);
  const notes = results.filter((x) => x.state !== 'ok').map((x) => `${x.ds.name} ${x.state}: ${x.message}`);
  return [up, ok(DATASOURCES, `${healthy.length} healthy: ${healthy.join(', ')}${notes.length ? ` (${notes.join('; ')})` : ''}`)];
}
