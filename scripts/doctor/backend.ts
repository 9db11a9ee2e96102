import { z } from 'zod';
import type { DoctorOptions } from './options';
import { COMPOSE, miss, ok, probe, type CheckLine, type Subject } from './probe';

const dependency = z.object({ status: z.string(), latencyMs: z.number().optional(), error: z.string().optional() });
const readySchema = z.object({ status: z.string(), reason: z.string().optional(), dependencies: z.record(z.string(), dependency) });
const READY: Subject = { component: 'backend', check: 'ready', service: 'backend', start: `${COMPOSE} up -d --build` };

/** The backend's /health/ready: ready, and every dependency up. */
export async function checkBackend(o: DoctorOptions): Promise<CheckLine[]> {
  const url = `${o.urls.backend}/health/ready`;
  const r = await probe(o, READY, url, readySchema, "CloudMart's /health/ready");
  if (r.line) return [r.line];
  const deps = Object.entries(r.body.dependencies);
  const described = deps.map(([name, d]) => `${name} ${d.status}${d.latencyMs !== undefined ? ` ${d.latencyMs} ms` : ''}${d.error ? ` (${d.error})` : ''}`);
  const down = deps.filter(([, d]) => d.status !== 'up').map(([name]) => name);
  if (r.status === 200 && r.body.status === 'ready' && down.length === 0) return [ok(READY, `${url}: ready (${described.join(', ')})`)];
  if (r.body.reason)
    return [
      miss(READY, `${url}: ${r.body.status}: ${r.body.reason}`, `the backend is stopping; ${COMPOSE} up -d backend, then ${COMPOSE} logs --tail=50 backend`),
    ];
  const fixes = [`${COMPOSE} ps ${down.join(' ')} and ${COMPOSE} logs --tail=50 ${down.join(' ')}`];
  if (down.includes('redis')) fixes.push('a chaos fault with cacheDown also marks redis down: DELETE /api/admin/chaos clears it');
  const what = r.status === 200 ? 'ready, but' : `${r.status} ${r.body.status}:`;
  return [miss(READY, `${url}: ${what} ${described.join(', ')}`, fixes.join('; '))];
}
