import { z } from 'zod';
import { expectedAlertNames, JOB_SERVICE } from '../lib/stack-config';
import { excerpt, httpGet, parseBody } from './http';
import type { DoctorOptions } from './options';
import { COMPOSE, miss, ok, probe, skip, stranger, unreachable, type CheckLine, type Subject } from './probe';

/** Prometheus's HTTP API wraps every answer in { status: 'success', data }. */
const success = <T extends z.ZodType>(data: T) => z.object({ status: z.literal('success'), data });
const activeTarget = z.object({
  labels: z.record(z.string(), z.string()),
  scrapePool: z.string(),
  scrapeUrl: z.string(),
  health: z.string(),
  lastError: z.string().optional(),
});
const targetsSchema = success(z.object({ activeTargets: z.array(activeTarget) }));
const rule = z.object({ name: z.string(), type: z.string(), health: z.string().optional(), lastError: z.string().optional() });
const rulesSchema = success(z.object({ groups: z.array(z.object({ name: z.string(), rules: z.array(rule) })) }));
const withUrl = z.object({ url: z.string() });
const alertmanagersSchema = success(z.object({ activeAlertmanagers: z.array(withUrl), droppedAlertmanagers: z.array(withUrl).optional() }));
const vectorSchema = success(z.object({ result: z.array(z.object({ value: z.tuple([z.number(), z.string()]) })) }));

export type ActiveTarget = z.infer<typeof activeTarget>;

const at = (check: string): Subject => ({ component: 'prometheus', check, service: 'prometheus' });

/** Prometheus's scrape error when the target's host name does not resolve. */
const NOT_RESOLVED = /\bno such host\b/;

function countBy(items: string[]): string {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(i, (counts.get(i) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => (n > 1 ? `${k} ×${n}` : k))
    .join(', ');
}

/** The targets line for Prometheus's active targets. */
export function targetsLine(targets: ActiveTarget[]): CheckLine {
  if (targets.length === 0) {
    const fix = `${COMPOSE} up -d --force-recreate prometheus (its config is docker/prometheus/prometheus.yml)`;
    return miss('prometheus', 'targets', 'no scrape targets configured', fix);
  }
  // A lab service's name that the Compose network's DNS does not know is a service not started
  // (the exporters before their profile, Grafana on a machine without it): reported, not missed.
  const notStarted = targets.filter((t) => t.health !== 'up' && JOB_SERVICE[t.scrapePool] && NOT_RESOLVED.test(t.lastError ?? ''));
  const bad = targets.filter((t) => t.health !== 'up' && !notStarted.includes(t));
  const up = targets.filter((t) => t.health === 'up');
  if (bad.length === 0) {
    const absent = notStarted.length ? `; not started: ${countBy(notStarted.map((t) => JOB_SERVICE[t.scrapePool]?.service ?? t.scrapePool))}` : '';
    return ok('prometheus', 'targets', `${up.length} targets up (${countBy(up.map((t) => t.scrapePool))})${absent}`);
  }
  // The scrape URL is already named; what follows it ("connect: connection refused") is the reason.
  const reason = (e: string) => excerpt(e.replace(/^Get "[^"]*": /, ''), 120);
  const described = bad.map((t) => `${t.scrapePool} ${t.labels.instance ?? t.scrapeUrl} ${t.health}${t.lastError ? ` (${reason(t.lastError)})` : ''}`);
  const fixes = new Set<string>();
  for (const t of bad) {
    const known = JOB_SERVICE[t.scrapePool];
    if (t.health === 'unknown') fixes.add('a target that was never scraped yet shows unknown: wait 15 s and run the doctor again');
    else if (known?.profile) fixes.add(`start the ${known.profile} profile: ${COMPOSE} --profile ${known.profile} up -d`);
    else if (known) fixes.add(`${COMPOSE} ps ${known.service} and ${COMPOSE} logs --tail=50 ${known.service}`);
    else fixes.add(`Prometheus → Status → Target health shows why ${t.scrapePool} fails`);
  }
  return miss('prometheus', 'targets', `${bad.length} of ${targets.length} targets not up: ${described.join('; ')}`, [...fixes].join('; '));
}

async function checkTargets(o: DoctorOptions, base: string): Promise<CheckLine> {
  const r = await probe(o, at('targets'), `${base}/api/v1/targets?state=active`, targetsSchema, "Prometheus's targets API");
  return r.line ? r.line : targetsLine(r.body.data.activeTargets);
}

async function checkRules(o: DoctorOptions, base: string): Promise<CheckLine> {
  const r = await probe(o, at('rules'), `${base}/api/v1/rules`, rulesSchema, "Prometheus's rules API");
  if (r.line) return r.line;
  const rules = r.body.data.groups.flatMap((g) => g.rules);
  const alerting = rules.filter((x) => x.type === 'alerting');
  const recording = rules.filter((x) => x.type === 'recording');
  const loaded = new Set(alerting.map((x) => x.name));
  const missing = expectedAlertNames().filter((n) => !loaded.has(n));
  const broken = rules.filter((x) => x.health === 'err');
  if (rules.length === 0 || missing.length) {
    const fix = `Prometheus reads docker/prometheus/rules/*.yml: reload it (curl -X POST ${base}/-/reload) and look for "loading groups failed" in ${COMPOSE} logs prometheus`;
    return miss('prometheus', 'rules', rules.length === 0 ? 'no rules loaded' : `alert rules missing: ${missing.join(', ')}`, fix);
  }
  if (broken.length) {
    const failing = broken.map((x) => `${x.name} (${excerpt(x.lastError ?? '', 80)})`).join('; ');
    return miss(
      'prometheus',
      'rules',
      `rules failing to evaluate: ${failing}`,
      'Prometheus → Alerts / Rule health shows the error; run the expression in the query page',
    );
  }
  return ok('prometheus', 'rules', `${alerting.length} alerting and ${recording.length} recording rules loaded, none failing`);
}

async function checkAlertmanagerDiscovery(o: DoctorOptions, base: string): Promise<CheckLine> {
  const check = 'sends to Alertmanager';
  const r = await probe(o, at(check), `${base}/api/v1/alertmanagers`, alertmanagersSchema, "Prometheus's alertmanagers API");
  if (r.line) return r.line;
  const active = r.body.data.activeAlertmanagers.map((a) => a.url);
  if (active.length === 0) {
    const fix = `docker/prometheus/prometheus.yml's alerting: section must name alertmanager:9093; ${COMPOSE} up -d alertmanager, then curl -X POST ${base}/-/reload`;
    return miss('prometheus', check, 'Prometheus knows no Alertmanager, so no alert leaves it', fix);
  }
  // Failed deliveries in the last 5 minutes: Prometheus lists an Alertmanager it cannot reach too.
  const q = await httpGet(`${base}/api/v1/query?query=${encodeURIComponent('sum(increase(prometheus_notifications_errors_total[5m]))')}`, o);
  const errors = q.kind === 'answer' ? Number(parseBody(q.text, vectorSchema)?.data.result[0]?.value[1] ?? '0') : 0;
  if (errors >= 1) {
    const fix = `${COMPOSE} logs --tail=50 prometheus | grep -i notifier; is the alertmanager container healthy (${COMPOSE} ps alertmanager)?`;
    return miss('prometheus', check, `sends to ${active.join(', ')}, but about ${Math.round(errors)} deliveries failed in the last 5 minutes`, fix);
  }
  return ok('prometheus', check, `sends alerts to ${active.join(', ')}`);
}

/** Prometheus ready, then its targets, its rules and its Alertmanager, concurrently. */
export async function checkPrometheus(o: DoctorOptions): Promise<CheckLine[]> {
  const base = o.urls.prometheus;
  const r = await httpGet(`${base}/-/ready`, o);
  if (r.kind === 'unreachable') {
    const why = 'Prometheus does not answer';
    return [unreachable(at('ready'), base, r.reason), ...['targets', 'rules', 'sends to Alertmanager'].map((c) => skip('prometheus', c, why))];
  }
  if (r.status === 503)
    return [miss('prometheus', 'ready', `${base}/-/ready: 503, still starting (replaying its WAL)`, 'wait a minute and run the doctor again')];
  if (r.status !== 200) return [stranger(at('ready'), `${base}/-/ready`, r, 'Prometheus')];
  const checks = await Promise.all([checkTargets(o, base), checkRules(o, base), checkAlertmanagerDiscovery(o, base)]);
  return [ok('prometheus', 'ready', `${base} ready`), ...checks];
}
