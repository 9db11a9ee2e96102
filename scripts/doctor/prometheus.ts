import { z } from 'zod';
import { expectedAlertNames, JOB_SERVICE } from '../lib/stack-config';
import { excerpt, httpGet, parseBody } from './http';
import type { DoctorOptions } from './options';
import { COMPOSE, miss, ok, probe, skip, stranger, unreachable, type CheckLine, type Subject } from './probe';

/** Prometheus's HTTP API wraps every answer in { status: 'success', data }. */
const success = <T extends z.ZodType>(data: T) => z.object({ status: z.literal('success'), data });
const labels = z.record(z.string(), z.string());
const activeTarget = z.object({ labels, scrapePool: z.string(), scrapeUrl: z.string(), health: z.string(), lastError: z.string().optional() });
const targetsSchema = success(z.object({ activeTargets: z.array(activeTarget) }));
const rule = z.object({ name: z.string(), type: z.string(), health: z.string().optional(), lastError: z.string().optional() });
const rulesSchema = success(z.object({ groups: z.array(z.object({ name: z.string(), rules: z.array(rule) })) }));
const withUrl = z.object({ url: z.string() });
const alertmanagersSchema = success(z.object({ activeAlertmanagers: z.array(withUrl), droppedAlertmanagers: z.array(withUrl).optional() }));
const vectorSchema = success(z.object({ result: z.array(z.object({ value: z.tuple([z.number(), z.string()]) })) }));

export type ActiveTarget = z.infer<typeof activeTarget>;

const at = (check: string): Subject => ({ component: 'prometheus', check, service: 'prometheus' });
const [READY, TARGETS, RULES, SENDS] = ['ready', 'targets', 'rules', 'sends to Alertmanager'].map(at) as [Subject, Subject, Subject, Subject];

/** Prometheus's scrape error when the target's host name does not resolve. */
const NOT_RESOLVED = /\bno such host\b/;

/** "a, b ×2, c": each name once, sorted, with how often it occurs. */
function countBy(items: string[]): string {
  const times = (k: string) => items.filter((i) => i === k).length;
  const names = [...new Set(items)].sort((a, b) => a.localeCompare(b));
  return names.map((k) => (times(k) > 1 ? `${k} ×${times(k)}` : k)).join(', ');
}

/** The fix for a target that is down, by what the lab knows of its job. */
function targetFix(t: ActiveTarget): string {
  const known = JOB_SERVICE[t.scrapePool];
  if (t.health === 'unknown') return 'a target that was never scraped yet shows unknown: wait 15 s and run the doctor again';
  if (known?.profile) return `start the ${known.profile} profile: ${COMPOSE} --profile ${known.profile} up -d`;
  if (known) return `${COMPOSE} ps ${known.service} and ${COMPOSE} logs --tail=50 ${known.service}`;
  return `Prometheus → Status → Target health shows why ${t.scrapePool} fails`;
}

/** The targets line for Prometheus's active targets. */
export function targetsLine(targets: ActiveTarget[]): CheckLine {
  if (targets.length === 0)
    return miss(TARGETS, 'no scrape targets configured', `${COMPOSE} up -d --force-recreate prometheus (its config is docker/prometheus/prometheus.yml)`);
  // A lab service's name that the Compose network's DNS does not know is a service not started
  // (the exporters before their profile, Grafana on a machine without it): reported, not missed.
  const notStarted = targets.filter((t) => t.health !== 'up' && JOB_SERVICE[t.scrapePool] && NOT_RESOLVED.test(t.lastError ?? ''));
  const bad = targets.filter((t) => t.health !== 'up' && !notStarted.includes(t));
  if (bad.length === 0) {
    const absent = notStarted.length ? `; not started: ${countBy(notStarted.map((t) => JOB_SERVICE[t.scrapePool]?.service ?? t.scrapePool))}` : '';
    const up = targets.filter((t) => t.health === 'up');
    return ok(TARGETS, `${up.length} targets up (${countBy(up.map((t) => t.scrapePool))})${absent}`);
  }
  // The scrape URL is already named; what follows it ("connect: connection refused") is the reason.
  const reason = (e: string) => excerpt(e.replace(/^Get "[^"]*": /, ''), 120);
  const described = bad.map((t) => `${t.scrapePool} ${t.labels.instance ?? t.scrapeUrl} ${t.health}${t.lastError ? ` (${reason(t.lastError)})` : ''}`);
  return miss(TARGETS, `${bad.length} of ${targets.length} targets not up: ${described.join('; ')}`, [...new Set(bad.map(targetFix))].join('; '));
}

function rulesLine(groups: { rules: z.infer<typeof rule>[] }[], base: string): CheckLine {
  const rules = groups.flatMap((g) => g.rules);
  const alerting = rules.filter((x) => x.type === 'alerting');
  const loaded = new Set(alerting.map((x) => x.name));
  const missing = expectedAlertNames().filter((n) => !loaded.has(n));
  const broken = rules.filter((x) => x.health === 'err');
  if (rules.length === 0 || missing.length) {
    const fix = `Prometheus reads docker/prometheus/rules/*.yml: reload it (curl -X POST ${base}/-/reload) and look for "loading groups failed" in ${COMPOSE} logs prometheus`;
    return miss(RULES, rules.length === 0 ? 'no rules loaded' : `alert rules missing: ${missing.join(', ')}`, fix);
  }
  if (broken.length) {
    const failing = broken.map((x) => `${x.name} (${excerpt(x.lastError ?? '', 80)})`).join('; ');
    return miss(RULES, `rules failing to evaluate: ${failing}`, 'Prometheus → Alerts / Rule health shows the error; run the expression in the query page');
  }
  return ok(RULES, `${alerting.length} alerting and ${rules.filter((x) => x.type === 'recording').length} recording rules loaded, none failing`);
}

async function sendsLine(o: DoctorOptions, alertmanagers: { url: string }[], base: string): Promise<CheckLine> {
  const active = alertmanagers.map((a) => a.url);
  if (active.length === 0) {
    const fix = `docker/prometheus/prometheus.yml's alerting: section must name alertmanager:9093; ${COMPOSE} up -d alertmanager, then curl -X POST ${base}/-/reload`;
    return miss(SENDS, 'Prometheus knows no Alertmanager, so no alert leaves it', fix);
  }
  // Failed deliveries in the last 5 minutes: Prometheus lists an Alertmanager it cannot reach too.
  const q = await httpGet(`${base}/api/v1/query?query=${encodeURIComponent('sum(increase(prometheus_notifications_errors_total[5m]))')}`, o);
  const errors = q.kind === 'answer' ? Number(parseBody(q.text, vectorSchema)?.data.result[0]?.value[1] ?? '0') : 0;
  if (errors < 1) return ok(SENDS, `sends alerts to ${active.join(', ')}`);
  const fix = `${COMPOSE} logs --tail=50 prometheus | grep -i notifier; is the alertmanager container healthy (${COMPOSE} ps alertmanager)?`;
  return miss(SENDS, `sends to ${active.join(', ')}, but about ${Math.round(errors)} deliveries failed in the last 5 minutes`, fix);
}

/** Prometheus ready, then its targets, its rules and its Alertmanager, concurrently. */
export async function checkPrometheus(o: DoctorOptions): Promise<CheckLine[]> {
  const base = o.urls.prometheus;
  const r = await httpGet(`${base}/-/ready`, o);
  if (r.kind === 'unreachable') return [unreachable(READY, base, r.reason), ...[TARGETS, RULES, SENDS].map((x) => skip(x, 'Prometheus does not answer'))];
  if (r.status === 503) return [miss(READY, `${base}/-/ready: 503, still starting (replaying its WAL)`, 'wait a minute and run the doctor again')];
  if (r.status !== 200) return [stranger(READY, `${base}/-/ready`, r, 'Prometheus')];
  // Each API answer read as its schema, then judged; the three concurrently.
  const api = <T>(s: Subject, path: string, schema: z.ZodType<T>, name: string, judge: (body: T) => CheckLine | Promise<CheckLine>) =>
    probe(o, s, `${base}${path}`, schema, `Prometheus's ${name} API`).then((p) => p.line ?? judge(p.body));
  const checks = await Promise.all([
    api(TARGETS, '/api/v1/targets?state=active', targetsSchema, 'targets', (b) => targetsLine(b.data.activeTargets)),
    api(RULES, '/api/v1/rules', rulesSchema, 'rules', (b) => rulesLine(b.data.groups, base)),
    api(SENDS, '/api/v1/alertmanagers', alertmanagersSchema, 'alertmanagers', (b) => sendsLine(o, b.data.activeAlertmanagers, base)),
  ]);
  return [ok(READY, `${base} ready`), ...checks];
}
