import type { HttpLabels } from '../telemetry/metrics';

export type HttpLabelValues = Readonly<Record<HttpLabels, string>>;

/**
 * One label object per (method, route, status) series, found through nested maps keyed
 * by the values themselves, so a request allocates no label object and builds no key
 * string. The series are bounded (known methods, route templates, status codes), so the
 * cache is too. Measured in docs/benchmark.md ("What the tuning buys").
 */
export class LabelCache {
  private readonly byMethod = new Map<string, Map<string, Map<number, HttpLabelValues>>>();

  get(method: string, route: string, status: number): HttpLabelValues {
    let byRoute = this.byMethod.get(method);
    if (!byRoute) this.byMethod.set(method, (byRoute = new Map<string, Map<number, HttpLabelValues>>()));
    let byStatus = byRoute.get(route);
    if (!byStatus) byRoute.set(route, (byStatus = new Map<number, HttpLabelValues>()));
    let labels = byStatus.get(status);
    if (!labels) byStatus.set(status, (labels = { method, route, status_code: String(status) }));
    return labels;
  }
}
