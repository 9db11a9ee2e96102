import type { MetricsRegistry } from './metrics';

/**
 * /metrics rendered from the registry's values in either exposition format, not by prom-client's
 * Registry.metrics(): that renders OpenMetrics by stripping _total from each counter's own name,
 * in place, so every classic-format scrape after it would serve http_requests_total as
 * http_requests. test/telemetry/prom-client-exposition.unit.test.ts fails once the pinned
 * prom-client no longer does this, and this file can go.
 */

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function formatLabels(labels: Record<string, string | number | undefined>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (v !== undefined) parts.push(`${k}="${escapeLabel(String(v))}"`);
  }
  return parts.length ? `{${parts.join(',')}}` : '';
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number | undefined>;
  metricName?: string;
  exemplar?: { labelSet: Record<string, string>; value: number | null; timestamp?: number } | null;
}

/** The whole registry in OpenMetrics (with exemplars) or in the classic text format. */
export async function renderMetrics(registry: MetricsRegistry, openMetrics: boolean): Promise<string> {
  const families = await registry.getMetricsAsJSON();
  const out: string[] = [];
  for (const family of families) {
    const type = String(family.type);
    // OpenMetrics names a counter family without its _total suffix; the samples keep it.
    const familyName = openMetrics && type === 'counter' ? family.name.replace(/_total$/, '') : family.name;
    out.push(`# HELP ${familyName} ${escapeHelp(family.help)}`, `# TYPE ${familyName} ${type}`);
    for (const v of family.values as unknown as MetricValue[]) {
      const sampleName = v.metricName ?? (type === 'counter' && !family.name.endsWith('_total') ? `${family.name}_total` : family.name);
      let line = `${sampleName}${formatLabels(v.labels)} ${formatValue(v.value)}`;
      if (openMetrics && v.exemplar && v.exemplar.value !== null) {
        line += ` # ${formatLabels(v.exemplar.labelSet)} ${formatValue(v.exemplar.value)}`;
        if (v.exemplar.timestamp !== undefined) line += ` ${v.exemplar.timestamp}`;
      }
      out.push(line);
    }
  }
  if (openMetrics) out.push('# EOF');
  return `${out.join('\n')}\n`;
}

/** True when the scraper prefers OpenMetrics (Prometheus does; curl does not). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('application/openmetrics-text');
}
