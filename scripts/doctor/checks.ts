import { checkAlertmanager } from './alertmanager';
import { checkBackend } from './backend';
import { checkElastic } from './elastic';
import { checkGrafana } from './grafana';
import { checkJaeger } from './jaeger';
import { checkLoki } from './loki';
import { COMPONENTS, type Component, type DoctorOptions } from './options';
import type { CheckLine } from './probe';
import { checkPrometheus } from './prometheus';

/** Every selected component checked concurrently; lines come back in the checklist's order. */
export async function runChecks(o: DoctorOptions): Promise<CheckLine[]> {
  // Grafana checks its Elasticsearch datasource only when the Elastic profile runs.
  const elastic = checkElastic(o);
  const elasticRunning = elastic.then((x) => x.running);
  const checks: Record<Component, () => Promise<CheckLine[]>> = {
    backend: () => checkBackend(o),
    prometheus: () => checkPrometheus(o),
    alertmanager: () => checkAlertmanager(o),
    jaeger: () => checkJaeger(o),
    loki: () => checkLoki(o),
    grafana: () => checkGrafana(o, elasticRunning),
    elastic: () => elastic.then((x) => x.lines),
  };
  const parts = await Promise.all(COMPONENTS.filter((c) => o.components.includes(c)).map((c) => checks[c]()));
  return parts.flat();
}
