/** One series of a Prometheus text exposition (what /metrics serves): its labels and value. */
export interface Series {
  labels: Record<string, string>;
  value: number;
}

/** Every series of `name` in the text, in order; [] when there is none. */
export function seriesFrom(text: string, name: string): Series[] {
  const found: Series[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1] ?? '', x[2] ?? '']));
    found.push({ labels, value: Number(m[3]) });
  }
  return found;
}

/**
 * One sample from Prometheus text exposition: the first series of `name` whose labels
 * include `labels`; undefined when there is none.
 */
export function sampleFrom(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return seriesFrom(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
