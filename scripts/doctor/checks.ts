import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { excerpt, httpGet, parseBody, type HttpResult } from './http';
import { REPO_ROOT, type Component, type DoctorOptions } from './options';

export type Status = 'ok' | 'miss' | 'skip';

/** One line of the checklist; every miss carries the command or step that fixes it. */
export interface CheckLine {
  component: Component;
  check: string;
  status: Status;
  detail: string;
  fix?: string;
}

const COMPOSE = 'docker compose -f compose/compose.yaml';

const ok = (component: Component, check: string, detail: string): CheckLine => ({ component, check, status: 'ok', detail });
const miss = (component: Component, check: string, detail: string, fix: string): CheckLine => ({ component, check, status: 'miss', detail, fix });
const skip = (component: Component, check: string, detail: string): CheckLine => ({ component, check, status: 'skip', detail });

/** The miss for a component that does not answer at all, with how to start it and where to look. */
function unreachable(component: Component, check: string, url: string, reason: string, service: string, profile?: string): CheckLine {
  const up = profile ? `${COMPOSE} --profile ${profile} up -d` : `${COMPOSE} up -d ${service}`;
  return miss(component, check, `${url}: ${reason}`, `${up}; if it is running, ${COMPOSE} ps ${service} (healthy?) and ${COMPOSE} logs --tail=50 ${service}`);
}

/** The miss for a port that answers, but not as the expected program does. */
function stranger(component: Component, check: string, url: string, r: HttpResult & { kind: 'answer' }, what: string, service: string): CheckLine {
  return miss(
    component,
    check,
    `${url} answered ${r.status} but not like ${what}: ${excerpt(r.text, 80) || '(empty body)'}`,
    `another program may hold the port: see which (Linux/macOS: lsof -i :${new URL(url).port || '80'}; Windows: netstat -ano | findstr ${new URL(url).port || '80'}), stop it or point the doctor elsewhere; else ${COMPOSE} logs --tail=50 ${service}`,
  );
}

// ------------------------------------------------------------------ backend

const readySchema = z.object({
  status: z.string(),
  reason: z.string().optional(),
  dependencies: z.record(
    z.string(),
    z.object({ status: z.string(), required: z.boolean().optional(), latencyMs: z.number().optional(), error: z.string().optional() }),
  ),
});

export async function checkBackend(o: DoctorOptions): Promise<CheckLine[]> {
  const url = `${o.urls.backend}/health/ready`;
  const r = await httpGet(url, o);
  if (r.kind === 'unreachable') {
    return [
      miss(
        'backend',
        'ready',
        `${url}: ${r.reason}`,
        `${COMPOSE} up -d --build; if it is running, ${COMPOSE} ps backend (healthy?) and ${COMPOSE} logs --tail=50 backend`,
      ),
    ];
  }
  const body = parseBody(r.text, readySchema);
  if (!body) return [stranger('backend', 'ready', url, r, "CloudMart's /health/ready", 'backend')];
  const deps = Object.entries(body.dependencies).map(
    ([name, d]) => `${name} ${d.status}${d.latencyMs !== undefined ? ` ${d.latencyMs} ms` : ''}${d.error ? ` (${d.error})` : ''}`,
  );
  const down = Object.entries(body.dependencies)
    .filter(([, d]) => d.status !== 'up')
    .map(([name]) => name);
  if (r.status === 200 && body.status === 'ready' && down.length === 0) return [ok('backend', 'ready', `${url}: ready (${deps.join(', ')})`)];
  if (body.reason)
    return [
      miss(
        'backend',
        'ready',
        `${url}: ${body.status}: ${body.reason}`,
        `the backend is stopping; ${COMPOSE} up -d backend, then ${COMPOSE} logs --tail=50 backend`,
      ),
    ];
  const fixes = [`${COMPOSE} ps ${down.join(' ')} and ${COMPOSE} logs --tail=50 ${down.join(' ')}`];
  if (down.includes('redis')) fixes.push('a chaos fault with cacheDown also marks redis down: DELETE /api/admin/chaos clears it');
  const what = r.status === 200 ? 'ready, but' : `${r.status} ${body.status}:`;
  return [miss('backend', 'ready', `${url}: ${what} ${deps.join(', ')}`, fixes.join('; '))];
}

// --------------------------------------------------------------- prometheus

const targetsSchema = z.object({
  status: z.literal('success'),
  data: z.object({
    activeTargets: z.array(
      z.object({
        labels: z.record(z.string(), z.string()),
        scrapePool: z.string(),
        scrapeUrl: z.string(),
        health: z.string(),
        lastError: z.string().optional(),
      }),
    ),
  }),
});

const rulesSchema = z.object({
  status: z.literal('success'),
  data: z.object({
    groups: z.array(
      z.object({
        name: z.string(),
        rules: z.array(z.object({ name: z.string(), type: z.string(), health: z.string().optional(), lastError: z.string().optional() })),
      }),
    ),
  }),
});

const alertmanagersSchema = z.object({
  status: z.literal('success'),
  data: z.object({ activeAlertmanagers: z.array(z.object({ url: z.string() })), droppedAlertmanagers: z.array(z.object({ url: z.string() })).optional() }),
});

const vectorSchema = z.object({
  status: z.literal('success'),
  data: z.object({ result: z.array(z.object({ value: z.tuple([z.number(), z.string()]) })) }),
});

/** Scrape jobs of docker/prometheus/prometheus.yml and the Compose service (and profile) behind each. */
const JOB_SERVICE: Record<string, { service: string; profile?: string }> = {
  backend: { service: 'backend' },
  prometheus: { service: 'prometheus' },
  alertmanager: { service: 'alertmanager' },
  grafana: { service: 'grafana' },
  loki: { service: 'loki' },
  jaeger: { service: 'jaeger' },
  'node-exporter': { service: 'node-exporter', profile: 'exporters' },
  cadvisor: { service: 'cadvisor', profile: 'exporters' },
  postgres: { service: 'postgres-exporter', profile: 'exporters' },
  redis: { service: 'redis-exporter', profile: 'exporters' },
};

/** Prometheus's scrape error when the target's host name does not resolve. */
const NOT_RESOLVED = /\bno such host\b/;

/** Alert names of the repo's rule files: what a Prometheus of this lab must have loaded. */
export function expectedAlertNames(root = REPO_ROOT): string[] {
  const dir = path.join(root, 'docker', 'prometheus', 'rules');
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  } catch {
    return [];
  }
  const ruleFile = z.object({ groups: z.array(z.object({ rules: z.array(z.object({ alert: z.string().optional() })) })) });
  const names: string[] = [];
  for (const f of files) {
    const parsed = ruleFile.safeParse(parseYaml(readFileSync(path.join(dir, f), 'utf8')));
    if (!parsed.success) continue;
    for (const g of parsed.data.groups) for (const rule of g.rules) if (rule.alert) names.push(rule.alert);
  }
  return names.sort();
}

function countBy(items: string[]): string {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(i, (counts.get(i) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => (n > 1 ? `${k} ×${n}` : k))
    .join(', ');
}

async function checkTargets(o: DoctorOptions, base: string): Promise<CheckLine> {
  const url = `${base}/api/v1/targets?state=active`;
  const r = await httpGet(url, o);
  if (r.kind === 'unreachable') return unreachable('prometheus', 'targets', url, r.reason, 'prometheus');
  const body = parseBody(r.text, targetsSchema);
  if (!body) return stranger('prometheus', 'targets', url, r, "Prometheus's targets API", 'prometheus');
  const targets = body.data.activeTargets;
  if (targets.length === 0)
    return miss(
      'prometheus',
      'targets',
      'no scrape targets configured',
      `${COMPOSE} up -d --force-recreate prometheus (its config is docker/prometheus/prometheus.yml)`,
    );
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

async function checkRules(o: DoctorOptions, base: string): Promise<CheckLine> {
  const url = `${base}/api/v1/rules`;
  const r = await httpGet(url, o);
  if (r.kind === 'unreachable') return unreachable('prometheus', 'rules', url, r.reason, 'prometheus');
  const body = parseBody(r.text, rulesSchema);
  if (!body) return stranger('prometheus', 'rules', url, r, "Prometheus's rules API", 'prometheus');
  const rules = body.data.groups.flatMap((g) => g.rules);
  const alerting = rules.filter((x) => x.type === 'alerting');
  const recording = rules.filter((x) => x.type === 'recording');
  const loaded = new Set(alerting.map((x) => x.name));
  const missing = expectedAlertNames().filter((n) => !loaded.has(n));
  const broken = rules.filter((x) => x.health === 'err');
  if (rules.length === 0 || missing.length) {
    return miss(
      'prometheus',
      'rules',
      rules.length === 0 ? 'no rules loaded' : `alert rules missing: ${missing.join(', ')}`,
      `Prometheus reads docker/prometheus/rules/*.yml: reload it (curl -X POST ${base}/-/reload) and look for "loading groups failed" in ${COMPOSE} logs prometheus`,
    );
  }
  if (broken.length) {
    return miss(
      'prometheus',
      'rules',
      `rules failing to evaluate: ${broken.map((x) => `${x.name} (${excerpt(x.lastError ?? '', 80)})`).join('; ')}`,
      'Prometheus → Alerts / Rule health shows the error; run the expression in the query page',
    );
  }
  return ok('prometheus', 'rules', `${alerting.length} alerting and ${recording.length} recording rules loaded, none failing`);
}

async function checkAlertmanagerDiscovery(o: DoctorOptions, base: string): Promise<CheckLine> {
  const url = `${base}/api/v1/alertmanagers`;
  const r = await httpGet(url, o);
  if (r.kind === 'unreachable') return unreachable('prometheus', 'sends to Alertmanager', url, r.reason, 'prometheus');
  const body = parseBody(r.text, alertmanagersSchema);
  if (!body) return stranger('prometheus', 'sends to Alertmanager', url, r, "Prometheus's alertmanagers API", 'prometheus');
  const active = body.data.activeAlertmanagers.map((a) => a.url);
  if (active.length === 0) {
    return miss(
      'prometheus',
      'sends to Alertmanager',
      'Prometheus knows no Alertmanager, so no alert leaves it',
      `docker/prometheus/prometheus.yml's alerting: section must name alertmanager:9093; ${COMPOSE} up -d alertmanager, then curl -X POST ${base}/-/reload`,
    );
  }
  // Failed deliveries in the last 5 minutes: Prometheus lists an Alertmanager it cannot reach too.
  const q = await httpGet(`${base}/api/v1/query?query=${encodeURIComponent('sum(increase(prometheus_notifications_errors_total[5m]))')}`, o);
  const errors = q.kind === 'answer' ? Number(parseBody(q.text, vectorSchema)?.data.result[0]?.value[1] ?? '0') : 0;
  if (errors >= 1) {
    return miss(
      'prometheus',
      'sends to Alertmanager',
      `sends to ${active.join(', ')}, but about ${Math.round(errors)} deliveries failed in the last 5 minutes`,
      `${COMPOSE} logs --tail=50 prometheus | grep -i notifier; is the alertmanager container healthy (${COMPOSE} ps alertmanager)?`,
    );
  }
  return ok('prometheus', 'sends to Alertmanager', `sends alerts to ${active.join(', ')}`);
}

export async function checkPrometheus(o: DoctorOptions): Promise<CheckLine[]> {
  const base = o.urls.prometheus;
  const r = await httpGet(`${base}/-/ready`, o);
  if (r.kind === 'unreachable') {
    const why = 'Prometheus does not answer';
    return [
      unreachable('prometheus', 'ready', base, r.reason, 'prometheus'),
      skip('prometheus', 'targets', why),
      skip('prometheus', 'rules', why),
      skip('prometheus', 'sends to Alertmanager', why),
    ];
  }
  if (r.status !== 200) {
    if (r.status === 503)
      return [miss('prometheus', 'ready', `${base}/-/ready: 503, still starting (replaying its WAL)`, 'wait a minute and run the doctor again')];
    return [stranger('prometheus', 'ready', `${base}/-/ready`, r, 'Prometheus', 'prometheus')];
  }
  const lines = [ok('prometheus', 'ready', `${base} ready`)];
  lines.push(...(await Promise.all([checkTargets(o, base), checkRules(o, base), checkAlertmanagerDiscovery(o, base)])));
  return lines;
}

// ------------------------------------------------------------- alertmanager

const amStatusSchema = z.object({ versionInfo: z.object({ version: z.string() }).optional(), cluster: z.object({ status: z.string() }).optional() });
const amReceiversSchema = z.array(z.object({ name: z.string() }));
const amGroupsSchema = z.array(
  z.object({
    labels: z.record(z.string(), z.string()),
    receiver: z.object({ name: z.string() }),
    alerts: z.array(z.object({ status: z.object({ state: z.string() }) })),
  }),
);

/** Receiver names of docker/alertmanager/alertmanager.yml. */
export function expectedReceivers(root = REPO_ROOT): string[] {
  try {
    const doc = z
      .object({ receivers: z.array(z.object({ name: z.string() })) })
      .safeParse(parseYaml(readFileSync(path.join(root, 'docker', 'alertmanager', 'alertmanager.yml'), 'utf8')));
    return doc.success ? doc.data.receivers.map((x) => x.name).sort() : [];
  } catch {
    return [];
  }
}

export async function checkAlertmanager(o: DoctorOptions): Promise<CheckLine[]> {
  const base = o.urls.alertmanager;
  const url = `${base}/api/v2/status`;
  const r = await httpGet(url, o);
  if (r.kind === 'unreachable')
    return [unreachable('alertmanager', 'ready', base, r.reason, 'alertmanager'), skip('alertmanager', 'receivers and groups', 'Alertmanager does not answer')];
  const status = r.status === 200 ? parseBody(r.text, amStatusSchema) : null;
  if (!status) return [stranger('alertmanager', 'ready', url, r, "Alertmanager's status API", 'alertmanager')];
  const lines = [ok('alertmanager', 'ready', `${base} ready${status.versionInfo ? ` (version ${status.versionInfo.version})` : ''}`)];

  const [rec, grp] = await Promise.all([httpGet(`${base}/api/v2/receivers`, o), httpGet(`${base}/api/v2/alerts/groups`, o)]);
  const receivers = rec.kind === 'answer' ? parseBody(rec.text, amReceiversSchema) : null;
  const groups = grp.kind === 'answer' ? parseBody(grp.text, amGroupsSchema) : null;
  if (!receivers || !groups) {
    lines.push(
      miss(
        'alertmanager',
        'receivers and groups',
        `${base}/api/v2/receivers or /api/v2/alerts/groups did not answer as Alertmanager does`,
        `${COMPOSE} logs --tail=50 alertmanager`,
      ),
    );
    return lines;
  }
  const names = new Set(receivers.map((x) => x.name));
  const missing = expectedReceivers().filter((n) => !names.has(n));
  if (missing.length) {
    lines.push(
      miss(
        'alertmanager',
        'receivers and groups',
        `receivers missing: ${missing.join(', ')} (loaded: ${[...names].join(', ') || 'none'})`,
        `Alertmanager reads docker/alertmanager/alertmanager.yml: ${COMPOSE} restart alertmanager, then ${COMPOSE} logs alertmanager`,
      ),
    );
    return lines;
  }
  const active = groups.filter((g) => g.alerts.length > 0);
  const summary = active.length
    ? `${active.length} alert group(s): ${active
        .map((g) => `${Object.values(g.labels).join('/') || '(no labels)'} → ${g.receiver.name} (${g.alerts.length})`)
        .sort()
        .join('; ')}`
    : 'no alerts right now';
  lines.push(ok('alertmanager', 'receivers and groups', `receivers ${[...names].sort().join(', ')}; ${summary}`));
  return lines;
}

// ------------------------------------------------------------------- jaeger

const servicesSchema = z.object({ data: z.array(z.string()).nullable() });
const tracesSchema = z.object({
  data: z
    .array(
      z.object({
        traceID: z.string(),
        spans: z.array(
          z.object({
            operationName: z.string(),
            startTime: z.number(),
            references: z
              .array(z.object({ refType: z.string() }))
              .nullable()
              .optional(),
          }),
        ),
      }),
    )
    .nullable(),
});

export async function checkJaeger(o: DoctorOptions): Promise<CheckLine[]> {
  const base = o.urls.jaeger;
  const url = `${base}/api/services`;
  const r = await httpGet(url, o);
  if (r.kind === 'unreachable') return [unreachable('jaeger', `traces of ${o.service}`, base, r.reason, 'jaeger')];
  const services = parseBody(r.text, servicesSchema);
  if (r.status !== 200 || !services) return [stranger('jaeger', `traces of ${o.service}`, url, r, "Jaeger's query API", 'jaeger')];
  const known = services.data ?? [];
  const noTraces = `send a request (curl -s ${o.urls.backend}/api/products) and wait 5 s: spans leave in batches; still none: ${COMPOSE} logs backend | grep "span export" (OTEL_EXPORTER_OTLP_ENDPOINT must be http://jaeger:4318)`;
  if (!known.includes(o.service)) {
    return [miss('jaeger', `traces of ${o.service}`, `Jaeger has no service ${o.service} (it knows: ${known.join(', ') || 'none'})`, noTraces)];
  }
  const endUs = Date.now() * 1000;
  const startUs = endUs - o.lookbackSeconds * 1_000_000;
  const tUrl = `${base}/api/traces?service=${encodeURIComponent(o.service)}&start=${startUs}&end=${endUs}&limit=1`;
  const t = await httpGet(tUrl, o);
  if (t.kind === 'unreachable') return [unreachable('jaeger', `traces of ${o.service}`, base, t.reason, 'jaeger')];
  const traces = parseBody(t.text, tracesSchema);
  if (!traces) return [stranger('jaeger', `traces of ${o.service}`, tUrl, t, "Jaeger's traces API", 'jaeger')];
  const latest = traces.data?.[0];
  if (!latest) return [miss('jaeger', `traces of ${o.service}`, `no trace of ${o.service} in the last ${o.lookbackSeconds / 60} minutes`, noTraces)];
  const root = latest.spans.find((s) => !s.references?.some((ref) => ref.refType === 'CHILD_OF')) ?? latest.spans[0];
  const ago = root ? Math.max(0, Math.round((endUs - root.startTime) / 1_000_000)) : 0;
  return [
    ok('jaeger', `traces of ${o.service}`, `latest trace ${latest.traceID}: ${root?.operationName ?? '?'}, ${latest.spans.length} span(s), ${ago} s ago`),
  ];
}

// --------------------------------------------------------------------- loki

const streamsSchema = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.string(),
    result: z.array(z.object({ stream: z.record(z.string(), z.string()), values: z.array(z.tuple([z.string(), z.string()])) })),
  }),
});
const labelValuesSchema = z.object({ status: z.literal('success'), data: z.array(z.string()).optional() });

export async function checkLoki(o: DoctorOptions): Promise<CheckLine[]> {
  const base = o.urls.loki;
  const check = 'backend log lines';
  const r = await httpGet(`${base}/ready`, o);
  if (r.kind === 'unreachable') return [unreachable('loki', check, base, r.reason, 'loki')];
  if (r.status !== 200) {
    if (r.status === 503)
      return [
        miss(
          'loki',
          check,
          `${base}/ready: 503 (${excerpt(r.text, 60)})`,
          `Loki needs about 15 s after start; wait and run the doctor again, else ${COMPOSE} logs --tail=50 loki`,
        ),
      ];
    return [stranger('loki', check, `${base}/ready`, r, 'Loki', 'loki')];
  }
  const endNs = BigInt(Date.now()) * 1_000_000n;
  const startNs = endNs - BigInt(o.lookbackSeconds) * 1_000_000_000n;
  const qUrl = `${base}/loki/api/v1/query_range?query=${encodeURIComponent(o.lokiSelector)}&start=${startNs}&end=${endNs}&limit=1&direction=backward`;
  const q = await httpGet(qUrl, o);
  if (q.kind === 'unreachable') return [unreachable('loki', check, base, q.reason, 'loki')];
  const body = parseBody(q.text, streamsSchema);
  if (!body) {
    if (q.status === 400)
      return [
        miss('loki', check, `Loki refused the query ${o.lokiSelector}: ${excerpt(q.text, 100)}`, 'pass a valid LogQL stream selector with --loki-selector'),
      ];
    return [stranger('loki', check, qUrl, q, "Loki's query API", 'loki')];
  }
  const latest = body.data.result
    .flatMap((s) => s.values.map(([ts, line]) => ({ ts, line, stream: s.stream })))
    .sort((a, b) => (BigInt(b.ts) > BigInt(a.ts) ? 1 : -1))[0];
  if (latest) {
    const ago = Math.max(0, Number((endNs - BigInt(latest.ts)) / 1_000_000_000n));
    return [ok('loki', check, `latest ${o.lokiSelector} line ${ago} s ago: ${excerpt(latest.line, 90)}`)];
  }
  // Say which streams do exist: none at all points at Promtail, others but not the backend's at its labels.
  const l = await httpGet(`${base}/loki/api/v1/label/service/values?start=${startNs}&end=${endNs}`, o);
  const values = l.kind === 'answer' ? (parseBody(l.text, labelValuesSchema)?.data ?? []) : [];
  const fix =
    values.length === 0
      ? `no container logs reach Loki: ${COMPOSE} logs --tail=20 promtail (it reads /var/run/docker.sock; on Docker Desktop allow the default socket), and only containers labelled logging=promtail are shipped`
      : `Loki has logs of ${values.join(', ')} but none matching ${o.lokiSelector}: is the backend running and labelled logging=promtail (${COMPOSE} ps backend)?`;
  return [miss('loki', check, `no ${o.lokiSelector} line in the last ${o.lookbackSeconds / 60} minutes`, fix)];
}

// ------------------------------------------------------------------ grafana

const grafanaHealthSchema = z.object({ database: z.string(), version: z.string().optional() });
const datasourcesSchema = z.array(z.object({ uid: z.string(), name: z.string(), type: z.string() }));
const dsHealthSchema = z.object({ status: z.string().optional(), message: z.string().optional() });

/** Datasource uids provisioned from docker/grafana/provisioning/datasources. */
export function expectedDatasourceUids(root = REPO_ROOT): string[] {
  const dir = path.join(root, 'docker', 'grafana', 'provisioning', 'datasources');
  const fileSchema = z.object({ datasources: z.array(z.object({ uid: z.string() })).optional() });
  try {
    return readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .flatMap((f) => fileSchema.safeParse(parseYaml(readFileSync(path.join(dir, f), 'utf8'))).data?.datasources?.map((d) => d.uid) ?? [])
      .sort();
  } catch {
    return [];
  }
}

export async function checkGrafana(o: DoctorOptions, elasticRunning: Promise<boolean>): Promise<CheckLine[]> {
  const base = o.urls.grafana;
  const url = `${base}/api/health`;
  const r = await httpGet(url, o);
  if (r.kind === 'unreachable') return [unreachable('grafana', 'up', base, r.reason, 'grafana'), skip('grafana', 'datasources', 'Grafana does not answer')];
  const health = parseBody(r.text, grafanaHealthSchema);
  if (!health) return [stranger('grafana', 'up', url, r, "Grafana's /api/health", 'grafana')];
  if (r.status !== 200 || health.database !== 'ok') {
    return [
      miss(
        'grafana',
        'up',
        `${url}: database ${health.database}`,
        `${COMPOSE} logs --tail=50 grafana; a damaged grafana-data volume is reset by ${COMPOSE} down and docker volume rm cloudmart_grafana-data`,
      ),
    ];
  }
  const lines = [ok('grafana', 'up', `${base} up${health.version ? ` (version ${health.version})` : ''}`)];

  const auth = { authorization: `Basic ${Buffer.from(`${o.grafanaUser}:${o.grafanaPassword}`).toString('base64')}` };
  const dsUrl = `${base}/api/datasources`;
  const d = await httpGet(dsUrl, { ...o, headers: auth });
  if (d.kind === 'unreachable') return [...lines, unreachable('grafana', 'datasources', base, d.reason, 'grafana')];
  if (d.status === 401 || d.status === 403) {
    return [
      ...lines,
      miss(
        'grafana',
        'datasources',
        `${dsUrl}: ${d.status}, Grafana refused user ${o.grafanaUser} with the password from ${o.grafanaPasswordSource}`,
        'give the doctor the admin password: GRAFANA_ADMIN_PASSWORD=... npm run doctor (the value in compose/.env, or the one you changed it to at first login); --grafana-user for another user',
      ),
    ];
  }
  const list = parseBody(d.text, datasourcesSchema);
  if (!list) return [...lines, stranger('grafana', 'datasources', dsUrl, d, "Grafana's datasources API", 'grafana')];
  const uids = new Set(list.map((x) => x.uid));
  const notProvisioned = expectedDatasourceUids().filter((u) => !uids.has(u));
  const withElastic = await elasticRunning;
  const results = await Promise.all(
    list.map(async (ds) => {
      if (ds.type === 'elasticsearch' && !withElastic) return { ds, state: 'skipped' as const, message: 'Elastic profile not running' };
      const h = await httpGet(`${base}/api/datasources/uid/${encodeURIComponent(ds.uid)}/health`, { ...o, headers: auth });
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
    return [
      ...lines,
      miss(
        'grafana',
        'datasources',
        parts.join('; '),
        `each datasource reaches its service by Compose name (docker/grafana/provisioning/datasources/datasources.yml): is that service up (${COMPOSE} ps)? After editing provisioning: ${COMPOSE} restart grafana`,
      ),
    ];
  }
  const healthy = results.filter((x) => x.state === 'ok').map((x) => x.ds.name);
  const notes = results.filter((x) => x.state !== 'ok').map((x) => `${x.ds.name} ${x.state}: ${x.message}`);
  lines.push(ok('grafana', 'datasources', `${healthy.length} healthy: ${healthy.join(', ')}${notes.length ? ` (${notes.join('; ')})` : ''}`));
  return lines;
}

// ------------------------------------------------------------------ elastic

const apmRootSchema = z.object({ version: z.string(), publish_ready: z.boolean().optional() });
const kibanaStatusSchema = z.object({ status: z.object({ overall: z.object({ level: z.string(), summary: z.string().optional() }) }) });
const countSchema = z.object({ count: z.number() });

export interface ElasticProbe {
  /** Whether the Elastic profile is to be checked (asked for, or something of it answers). */
  running: boolean;
  lines: CheckLine[];
}

export async function checkElastic(o: DoctorOptions): Promise<ElasticProbe> {
  const { kibana, apmServer, elasticsearch } = o.urls;
  if (o.elastic === false || !o.components.includes('elastic'))
    return { running: false, lines: [skip('elastic', 'Kibana / APM server', 'not checked (--no-elastic or --skip elastic)')] };
  const [k, a, e] = await Promise.all([httpGet(`${kibana}/api/status`, o), httpGet(`${apmServer}/`, o), httpGet(`${elasticsearch}/`, o)]);
  if (o.elastic === undefined && k.kind === 'unreachable' && a.kind === 'unreachable' && e.kind === 'unreachable') {
    return {
      running: false,
      lines: [
        skip(
          'elastic',
          'Kibana / APM server',
          `Elastic profile not running (nothing answers on ${new URL(kibana).host}, ${new URL(apmServer).host}, ${new URL(elasticsearch).host}); pass --elastic to require it`,
        ),
      ],
    };
  }
  const lines: CheckLine[] = [];
  const start = `${COMPOSE} --profile elastic up -d`;

  if (a.kind === 'unreachable') lines.push(unreachable('elastic', 'APM server', apmServer, a.reason, 'apm-server', 'elastic'));
  else {
    const body = parseBody(a.text, apmRootSchema);
    if (!body) lines.push(stranger('elastic', 'APM server', apmServer, a, 'the APM server', 'apm-server'));
    else if (body.publish_ready === false)
      lines.push(
        miss(
          'elastic',
          'APM server',
          `APM server ${body.version} up but not ready to publish`,
          `it waits for Elasticsearch: ${COMPOSE} ps elasticsearch (healthy?)`,
        ),
      );
    else lines.push(ok('elastic', 'APM server', `${apmServer} APM server ${body.version} ready`));
  }

  if (k.kind === 'unreachable') lines.push(unreachable('elastic', 'Kibana', kibana, k.reason, 'kibana', 'elastic'));
  else {
    const body = parseBody(k.text, kibanaStatusSchema);
    if (!body) lines.push(stranger('elastic', 'Kibana', `${kibana}/api/status`, k, "Kibana's status API", 'kibana'));
    else if (body.status.overall.level !== 'available') {
      lines.push(
        miss(
          'elastic',
          'Kibana',
          `Kibana is ${body.status.overall.level}${body.status.overall.summary ? `: ${excerpt(body.status.overall.summary, 90)}` : ''}`,
          `Kibana needs 1–2 minutes after Elasticsearch is healthy; else ${COMPOSE} logs --tail=50 kibana`,
        ),
      );
    } else lines.push(ok('elastic', 'Kibana', `${kibana} available`));
  }

  const cUrl = `${elasticsearch}/traces-apm*/_count?q=${encodeURIComponent(`service.name:"${o.service}"`)}`;
  const c = e.kind === 'unreachable' ? e : await httpGet(cUrl, o);
  if (c.kind === 'unreachable') lines.push(unreachable('elastic', `APM traces of ${o.service}`, elasticsearch, c.reason, 'elasticsearch', 'elastic'));
  else {
    const body = parseBody(c.text, countSchema);
    if (!body) lines.push(stranger('elastic', `APM traces of ${o.service}`, cUrl, c, "Elasticsearch's count API", 'elasticsearch'));
    else if (body.count === 0) {
      lines.push(
        miss(
          'elastic',
          `APM traces of ${o.service}`,
          `Elasticsearch holds no APM span of ${o.service}`,
          `the backend sends OTLP to ELASTIC_APM_SERVER_URL (http://apm-server:8200) as well as to Jaeger: send a few requests; if you started the profile after the backend, ${start} and ${COMPOSE} restart backend`,
        ),
      );
    } else lines.push(ok('elastic', `APM traces of ${o.service}`, `${body.count} APM documents of ${o.service} in traces-apm*`));
  }
  return { running: true, lines };
}

// ---------------------------------------------------------------------- all

/** Every selected component checked concurrently; lines come back in the checklist's order. */
export async function runChecks(o: DoctorOptions): Promise<CheckLine[]> {
  const want = (c: Component) => o.components.includes(c);
  const elastic = checkElastic(o);
  const running = elastic.then((x) => x.running);
  const parts = await Promise.all([
    want('backend') ? checkBackend(o) : [],
    want('prometheus') ? checkPrometheus(o) : [],
    want('alertmanager') ? checkAlertmanager(o) : [],
    want('jaeger') ? checkJaeger(o) : [],
    want('loki') ? checkLoki(o) : [],
    want('grafana') ? checkGrafana(o, running) : [],
    want('elastic') ? elastic.then((x) => x.lines) : [],
  ]);
  return parts.flat();
}
