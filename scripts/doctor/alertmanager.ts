import { z } from 'zod';
import { expectedReceivers } from '../lib/stack-config';
import { httpGet, parseBody } from './http';
import type { DoctorOptions } from './options';
import { COMPOSE, miss, notAnswered, ok, probe, type CheckLine, type Subject } from './probe';

const statusSchema = z.object({ versionInfo: z.object({ version: z.string() }).optional(), cluster: z.object({ status: z.string() }).optional() });
const named = z.object({ name: z.string() });
const receiversSchema = z.array(named);
const alert = z.object({ status: z.object({ state: z.string() }) });
const groupsSchema = z.array(z.object({ labels: z.record(z.string(), z.string()), receiver: named, alerts: z.array(alert) }));

const at = (check: string): Subject => ({ component: 'alertmanager', check, service: 'alertmanager' });

/** Alertmanager ready, with the receivers of docker/alertmanager/alertmanager.yml; its alert groups as information. */
export async function checkAlertmanager(o: DoctorOptions): Promise<CheckLine[]> {
  const base = o.urls.alertmanager;
  const s = at('receivers and groups');
  const r = await probe(o, at('ready'), `${base}/api/v2/status`, statusSchema, "Alertmanager's status API", { shown: base, need200: true });
  if (r.line) return notAnswered(r, 'Alertmanager does not answer', s);
  const ready = ok(at('ready'), `${base} ready${r.body.versionInfo ? ` (version ${r.body.versionInfo.version})` : ''}`);

  const [rec, grp] = await Promise.all([httpGet(`${base}/api/v2/receivers`, o), httpGet(`${base}/api/v2/alerts/groups`, o)]);
  const receivers = rec.kind === 'answer' ? parseBody(rec.text, receiversSchema) : null;
  const groups = grp.kind === 'answer' ? parseBody(grp.text, groupsSchema) : null;
  if (!receivers || !groups)
    return [ready, miss(s, `${base}/api/v2/receivers or /api/v2/alerts/groups did not answer as Alertmanager does`, `${COMPOSE} logs --tail=50 alertmanager`)];
  const names = new Set(receivers.map((x) => x.name));
  const missing = expectedReceivers().filter((n) => !names.has(n));
  if (missing.length) {
    const fix = `Alertmanager reads docker/alertmanager/alertmanager.yml: ${COMPOSE} restart alertmanager, then ${COMPOSE} logs alertmanager`;
    return [ready, miss(s, `receivers missing: ${missing.join(', ')} (loaded: ${[...names].join(', ') || 'none'})`, fix)];
  }
  const active = groups.filter((g) => g.alerts.length > 0);
  const described = active.map((g) => `${Object.values(g.labels).join('/') || '(no labels)'} → ${g.receiver.name} (${g.alerts.length})`).sort();
  const summary = active.length ? `${active.length} alert group(s): ${described.join('; ')}` : 'no alerts right now';
  return [ready, ok(s, `receivers ${[...names].sort().join(', ')}; ${summary}`)];
}
