import { z } from 'zod';
import { expectedReceivers } from '../lib/stack-config';
import { httpGet, parseBody } from './http';
import type { DoctorOptions } from './options';
import { COMPOSE, miss, ok, probe, skip, type CheckLine, type Subject } from './probe';

const statusSchema = z.object({ versionInfo: z.object({ version: z.string() }).optional(), cluster: z.object({ status: z.string() }).optional() });
const receiversSchema = z.array(z.object({ name: z.string() }));
const groupsSchema = z.array(
  z.object({
    labels: z.record(z.string(), z.string()),
    receiver: z.object({ name: z.string() }),
    alerts: z.array(z.object({ status: z.object({ state: z.string() }) })),
  }),
);

const at = (check: string): Subject => ({ component: 'alertmanager', check, service: 'alertmanager' });

/** Alertmanager ready, with the receivers of docker/alertmanager/alertmanager.yml; its alert groups as information. */
export async function checkAlertmanager(o: DoctorOptions): Promise<CheckLine[]> {
  const base = o.urls.alertmanager;
  const check = 'receivers and groups';
  const r = await probe(o, at('ready'), `${base}/api/v2/status`, statusSchema, "Alertmanager's status API", { shown: base, need200: true });
  if (r.line) return r.answer ? [r.line] : [r.line, skip('alertmanager', check, 'Alertmanager does not answer')];
  const lines = [ok('alertmanager', 'ready', `${base} ready${r.body.versionInfo ? ` (version ${r.body.versionInfo.version})` : ''}`)];

  const [rec, grp] = await Promise.all([httpGet(`${base}/api/v2/receivers`, o), httpGet(`${base}/api/v2/alerts/groups`, o)]);
  const receivers = rec.kind === 'answer' ? parseBody(rec.text, receiversSchema) : null;
  const groups = grp.kind === 'answer' ? parseBody(grp.text, groupsSchema) : null;
  if (!receivers || !groups) {
    const detail = `${base}/api/v2/receivers or /api/v2/alerts/groups did not answer as Alertmanager does`;
    return [...lines, miss('alertmanager', check, detail, `${COMPOSE} logs --tail=50 alertmanager`)];
  }
  const names = new Set(receivers.map((x) => x.name));
  const missing = expectedReceivers().filter((n) => !names.has(n));
  if (missing.length) {
    const fix = `Alertmanager reads docker/alertmanager/alertmanager.yml: ${COMPOSE} restart alertmanager, then ${COMPOSE} logs alertmanager`;
    return [...lines, miss('alertmanager', check, `receivers missing: ${missing.join(', ')} (loaded: ${[...names].join(', ') || 'none'})`, fix)];
  }
  const active = groups.filter((g) => g.alerts.length > 0);
  const described = active.map((g) => `${Object.values(g.labels).join('/') || '(no labels)'} → ${g.receiver.name} (${g.alerts.length})`).sort();
  const summary = active.length ? `${active.length} alert group(s): ${described.join('; ')}` : 'no alerts right now';
  return [...lines, ok('alertmanager', check, `receivers ${[...names].sort().join(', ')}; ${summary}`)];
}
