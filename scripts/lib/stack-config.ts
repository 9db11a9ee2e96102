/**
 * Readers of the lab stack's configuration in docker/: what a running stack must have loaded.
 * One reader for both users: the doctor compares a live stack with it, and the tests
 * (through test/helpers/stack.ts) check the files and the stack against it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** The repository root (scripts/lib/ sits two levels below it). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The YAML files of a folder, sorted; none when the folder is missing. */
function yamlFiles(dir: string, pattern = /\.ya?ml$/): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => pattern.test(f))
      .sort()
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/** A file read as `schema`, or undefined when it is missing, not YAML or not of that shape. */
function readYamlAs<T>(file: string, schema: z.ZodType<T>): T | undefined {
  try {
    return schema.safeParse(parseYaml(readFileSync(file, 'utf8'))).data;
  } catch {
    return undefined;
  }
}

// --------------------------------------------------------------- prometheus

const strings = z.record(z.string(), z.coerce.string());
const ruleSchema = z.object({
  alert: z.string().optional(),
  record: z.string().optional(),
  expr: z.string(),
  for: z.string().optional(),
  labels: strings.default({}),
  annotations: strings.default({}),
});
const ruleFileSchema = z.object({ groups: z.array(z.object({ name: z.string(), rules: z.array(ruleSchema) })) });

export type AlertRule = z.infer<typeof ruleSchema> & { alert: string };

export const ruleFiles = (root = REPO_ROOT): string[] => yamlFiles(path.join(root, 'docker', 'prometheus', 'rules'));
export const ruleTestFiles = (root = REPO_ROOT): string[] => yamlFiles(path.join(root, 'docker', 'prometheus', 'tests'), /\.test\.ya?ml$/);

/** Every rule of docker/prometheus/rules/*.yml, alerting and recording, in file order. */
function rules(root: string): z.infer<typeof ruleSchema>[] {
  return ruleFiles(root).flatMap((f) => readYamlAs(f, ruleFileSchema)?.groups.flatMap((g) => g.rules) ?? []);
}

export const alertRules = (root = REPO_ROOT): AlertRule[] => rules(root).filter((r): r is AlertRule => r.alert !== undefined);
export const recordingRuleNames = (root = REPO_ROOT): string[] => rules(root).flatMap((r) => (r.record ? [r.record] : []));

/** Alert names of the repo's rule files: what a Prometheus of this lab must have loaded. */
export const expectedAlertNames = (root = REPO_ROOT): string[] =>
  alertRules(root)
    .map((r) => r.alert)
    .sort();

/**
 * Scrape jobs of docker/prometheus/prometheus.yml and the Compose service (and profile) behind
 * each; test/doctor/stack-config.unit.test.ts keeps it equal to prometheus.yml and compose/.
 */
export const JOB_SERVICE: Readonly<Record<string, { service: string; profile?: string }>> = {
  backend: { service: 'backend' },
  prometheus: { service: 'prometheus' },
  alertmanager: { service: 'alertmanager' },
  grafana: { service: 'grafana' },
  loki: { service: 'loki' },
  jaeger: { service: 'jaeger' },
  'otel-collector': { service: 'otel-collector' },
  'node-exporter': { service: 'node-exporter', profile: 'exporters' },
  cadvisor: { service: 'cadvisor', profile: 'exporters' },
  postgres: { service: 'postgres-exporter', profile: 'exporters' },
  redis: { service: 'redis-exporter', profile: 'exporters' },
};

// ------------------------------------------------------ alertmanager, grafana

/** Receiver names of docker/alertmanager/alertmanager.yml. */
export function expectedReceivers(root = REPO_ROOT): string[] {
  const schema = z.object({ receivers: z.array(z.object({ name: z.string() })) });
  const doc = readYamlAs(path.join(root, 'docker', 'alertmanager', 'alertmanager.yml'), schema);
  return (doc?.receivers.map((x) => x.name) ?? []).sort();
}

// Loose: the tests read every field of a datasource, the doctor only its uid.
const datasourceSchema = z.looseObject({ uid: z.string().optional() });
const datasourceFile = z.object({ datasources: z.array(datasourceSchema).optional() });

/** Every datasource of docker/grafana/provisioning/datasources/*.yml, as written there. */
export function provisionedDatasources(root = REPO_ROOT): z.infer<typeof datasourceSchema>[] {
  const files = yamlFiles(path.join(root, 'docker', 'grafana', 'provisioning', 'datasources'));
  return files.flatMap((f) => readYamlAs(f, datasourceFile)?.datasources ?? []);
}

/** Datasource uids provisioned: what Grafana must list. */
export const expectedDatasourceUids = (root = REPO_ROOT): string[] =>
  provisionedDatasources(root)
    .flatMap((d) => (d.uid ? [d.uid] : []))
    .sort();
