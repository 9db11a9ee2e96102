/**
 * Readers for the Compose stack's configuration (compose/, docker/), shared by
 * test/stack/*.test.ts and by end-to-end tests that need the same facts
 * (PromQL of every dashboard, the JSON fields Promtail extracts, ...).
 * Importing this module registers no tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseDuration as durationMs } from '../../scripts/lib/duration';
import { provisionedDatasources as readDatasources } from '../../scripts/lib/stack-config';

export const repoRoot = path.resolve(__dirname, '../..');
export const composeDir = path.join(repoRoot, 'compose');
export const dockerDir = path.join(repoRoot, 'docker');
export const dashboardsDir = path.join(dockerDir, 'grafana', 'dashboards');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Yaml = any;

export function readText(rel: string): string {
  return fs.readFileSync(path.join(repoRoot, rel), 'utf8');
}

/** `value`, or a thrown error naming what was missing (instead of a `!`). */
export function must<T>(value: T | null | undefined, what: string): T {
  if (value === undefined || value === null) throw new Error(`missing: ${what}`);
  return value;
}

export function readYaml(rel: string): Yaml {
  return parseYaml(readText(rel));
}

// ----------------------------------------------------------------- compose

export interface ComposeFile {
  file: string; // e.g. compose/app.yaml
  doc: Yaml;
}

export function composeFiles(): ComposeFile[] {
  return fs
    .readdirSync(composeDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => ({ file: `compose/${f}`, doc: readYaml(`compose/${f}`) }));
}

export interface ComposeService {
  file: string;
  name: string;
  svc: Yaml;
}

/** Services of every file except compose.yaml (which only includes the others). */
export function composeServices(): ComposeService[] {
  const out: ComposeService[] = [];
  for (const { file, doc } of composeFiles()) {
    for (const [name, svc] of Object.entries(doc.services ?? {})) out.push({ file, name, svc });
  }
  return out;
}

/** "512m", "1g", "1280m", 1073741824 -> bytes. */
export function parseMemory(v: string | number | undefined): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$/i.exec(v.trim());
  if (!m) return null;
  const [, num = '0', unit = ''] = m;
  const mult: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
  return Math.round(parseFloat(num) * (mult[unit.toLowerCase()] ?? 1));
}

export function memoryLimit(svc: Yaml): number | null {
  return parseMemory(svc.mem_limit ?? svc.deploy?.resources?.limits?.memory);
}

export interface PublishedPort {
  hostIp: string;
  published: string;
  target: string;
  protocol: string;
}

/** Host-published ports of a service (container-only ports are left out). */
export function publishedPorts(svc: Yaml): PublishedPort[] {
  const out: PublishedPort[] = [];
  for (const p of svc.ports ?? []) {
    if (typeof p === 'object') {
      if (p.published === undefined) continue;
      out.push({ hostIp: p.host_ip ?? '', published: String(p.published), target: String(p.target), protocol: p.protocol ?? 'tcp' });
      continue;
    }
    const [spec = '', protocol = 'tcp'] = String(p).split('/');
    // [HOST_IP:]PUBLISHED:TARGET, where the address and the port may each be a ${VAR:-default}.
    const m = /^(?:(\$\{[^}]*\}|[^:]*):)?(\$\{[^}]*\}|[\d-]+):([\d-]+)$/.exec(spec);
    if (!m) continue; // "3000": ephemeral host port
    out.push({ hostIp: m[1] ?? '', published: m[2] ?? '', target: m[3] ?? '', protocol });
  }
  return out;
}

// --------------------------------------------------------------- prometheus

// The rule files are read as the doctor reads them (one reader of the stack's config).
export { alertRules, recordingRuleNames, ruleFiles, ruleTestFiles, type AlertRule } from '../../scripts/lib/stack-config';

/** A Prometheus duration ("90s", "2m", "1h30m") in seconds, by the one parser; absent is 0, and a bare number is not one. */
export function parseDuration(d: string | undefined): number {
  return d ? must(durationMs(d), `a Prometheus duration, not "${d}"`) / 1000 : 0;
}

// ------------------------------------------------------------------ grafana

export interface DatasourceRef {
  type: string;
  uid: string;
}

export function provisionedDatasources(): Yaml[] {
  return readDatasources();
}

export interface Dashboard {
  file: string;
  json: Yaml;
}

export function dashboards(): Dashboard[] {
  return fs
    .readdirSync(dashboardsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, json: JSON.parse(fs.readFileSync(path.join(dashboardsDir, f), 'utf8')) }));
}

/** All panels, including those nested in (collapsed) rows. */
export function dashboardPanels(json: Yaml): Yaml[] {
  const out: Yaml[] = [];
  for (const p of json.panels ?? []) {
    out.push(p);
    for (const inner of p.panels ?? []) out.push(inner);
  }
  return out;
}

export interface DashboardQuery {
  dashboard: string; // uid
  panel: string; // title
  datasource: DatasourceRef;
  expr: string;
  exemplar: boolean;
}

/** Every query target of every dashboard, with its effective datasource. */
export function dashboardQueries(): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const { json } of dashboards()) {
    for (const p of dashboardPanels(json)) {
      for (const tg of p.targets ?? []) {
        out.push({
          dashboard: json.uid,
          panel: p.title,
          datasource: tg.datasource ?? p.datasource,
          expr: tg.expr,
          exemplar: tg.exemplar === true,
        });
      }
    }
  }
  return out;
}

/** The template variables dashboard PromQL may contain. */
export const GRAFANA_VARIABLES = ['__rate_interval', '__interval', '__range', 'route', 'job'];

/**
 * Replace Grafana variables with values Prometheus accepts, so that an
 * expression can be sent to the query API or to promtool.
 */
export function substituteGrafanaVariables(expr: string, values: Partial<Record<string, string>> = {}): string {
  const v: Record<string, string> = {
    __rate_interval: '1m',
    __interval: '15s',
    __range: '5m',
    route: '.*',
    job: 'backend',
    ...values,
  };
  return expr.replace(/\$\{?(\w+)\}?/g, (whole: string, name: string) => v[name] ?? whole);
}

/** PromQL of every Prometheus-datasource target, variables substituted. */
export function dashboardPromQL(values?: Partial<Record<string, string>>): Array<DashboardQuery & { promql: string }> {
  return dashboardQueries()
    .filter((q) => q.datasource?.type === 'prometheus')
    .map((q) => ({ ...q, promql: substituteGrafanaVariables(q.expr, values) }));
}

// --------------------------------------------------------------------- logs

function collectPromtailStages(stages: Yaml[], out: Yaml[]): void {
  for (const s of stages ?? []) {
    out.push(s);
    if (s.match?.stages) collectPromtailStages(s.match.stages, out);
  }
}

/** Every pipeline stage of docker/promtail/promtail.yaml, match sub-stages included. */
export function promtailStages(): Yaml[] {
  const doc = readYaml('docker/promtail/promtail.yaml');
  const out: Yaml[] = [];
  for (const sc of doc.scrape_configs ?? []) collectPromtailStages(sc.pipeline_stages, out);
  return out;
}

/**
 * The JSON field names (keys of the service's log lines) that the Promtail
 * pipeline extracts: the sources of its `json` stage expressions.
 */
export function promtailJsonFields(): string[] {
  const fields = new Set<string>();
  for (const s of promtailStages()) {
    if (!s.json) continue;
    for (const [name, source] of Object.entries<string | null>(s.json.expressions ?? {})) {
      fields.add(source && source.trim() ? source.trim() : name);
    }
  }
  return [...fields].sort();
}

export function promtailLabelNames(): string[] {
  return promtailStages()
    .flatMap((s) => (s.labels ? Object.keys(s.labels) : []))
    .sort();
}

export function promtailStructuredMetadataNames(): string[] {
  return promtailStages()
    .flatMap((s) => (s.structured_metadata ? Object.keys(s.structured_metadata) : []))
    .sort();
}

/** Body of the first `name { ... }` block in an Alloy file (brace-matched). */
export function alloyBlock(text: string, name: string): string | null {
  const start = text.indexOf(`${name} {`);
  if (start < 0) return null;
  let depth = 0;
  for (let i = text.indexOf('{', start); i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(text.indexOf('{', start) + 1, i);
  }
  return null;
}

/** Keys of an Alloy map attribute such as `expressions = { level = "", ... }` inside a block. */
export function alloyMapKeys(blockBody: string, attribute: string): string[] {
  const m = new RegExp(`${attribute}\\s*=\\s*\\{([^}]*)\\}`).exec(blockBody);
  if (!m) return [];
  return [...(m[1] ?? '').matchAll(/^\s*"?([\w.]+)"?\s*=/gm)].map((x) => x[1] ?? '').sort();
}
