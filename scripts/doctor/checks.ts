import { checkAlertmanager } from './alertmanager';
import { checkBackend } from './backend';
import { checkElastic } from './elastic';
import { checkGrafana } from './grafana';
import { checkJaeger } from './jaeger';
import { checkLoki } from './loki';
import type { Component, DoctorOptions } from './options';
import type { CheckLine } from './probe';
import { checkPrometheus } from './prometheus';

/** Every selected component checked concurrently; lines come back in the checklist's order. */
export async function runChecks(o: DoctorOptions): Promise<CheckLine[]> {
  const want = (c: Component) => o.components.includes(c);
  // Grafana checks its Elasticsearch datasource only when the Elastic profile runs.
  const elastic = checkElastic(o);
  const parts = await Promise.all([
    want('backend') ? checkBackend(o) : [],
    want('prometheus') ? checkPrometheus(o) : [],
    want('alertmanager') ? checkAlertmanager(o) : [],
    want('jaeger') ? checkJaeger(o) : [],
    want('loki') ? checkLoki(o) : [],
    want('grafana')
      ? checkGrafana(
          o,
          elastic.then((x) => x.running),
        )
      : [],
    want('elastic') ? elastic.then((x) => x.lines) : [],
  ]);
  return parts.flat();
}
