import { z } from 'zod';
import { excerpt, httpGet, parseBody } from './http';
import type { DoctorOptions } from './options';
import { COMPOSE, miss, ok, probe, stranger, unreachable, type CheckLine, type Subject } from './probe';

const stream = z.object({ stream: z.record(z.string(), z.string()), values: z.array(z.tuple([z.string(), z.string()])) });
const streamsSchema = z.object({ status: z.literal('success'), data: z.object({ resultType: z.string(), result: z.array(stream) }) });
const labelValuesSchema = z.object({ status: z.literal('success'), data: z.array(z.string()).optional() });
const LOG_LINES: Subject = { component: 'loki', check: 'backend log lines', service: 'loki' };

/** Loki ready, and a line of the backend's log stream from within the lookback. */
export async function checkLoki(o: DoctorOptions): Promise<CheckLine[]> {
  const base = o.urls.loki;
  const r = await httpGet(`${base}/ready`, o);
  if (r.kind === 'unreachable') return [unreachable(LOG_LINES, base, r.reason)];
  const starting = `Loki needs about 15 s after start; wait and run the doctor again, else ${COMPOSE} logs --tail=50 loki`;
  if (r.status === 503) return [miss(LOG_LINES, `${base}/ready: 503 (${excerpt(r.text, 60)})`, starting)];
  if (r.status !== 200) return [stranger(LOG_LINES, `${base}/ready`, r, 'Loki')];
  const endNs = BigInt(Date.now()) * 1_000_000n;
  const startNs = endNs - BigInt(o.lookbackSeconds) * 1_000_000_000n;
  const qUrl = `${base}/loki/api/v1/query_range?query=${encodeURIComponent(o.lokiSelector)}&start=${startNs}&end=${endNs}&limit=1&direction=backward`;
  const q = await probe(o, LOG_LINES, qUrl, streamsSchema, "Loki's query API", { shown: base });
  if (q.answer?.status === 400)
    return [
      miss(LOG_LINES, `Loki refused the query ${o.lokiSelector}: ${excerpt(q.answer.text, 100)}`, 'pass a valid LogQL stream selector with --loki-selector'),
    ];
  if (q.line) return [q.line];
  const latest = q.body.data.result.flatMap((x) => x.values.map(([ts, line]) => ({ ts, line }))).sort((a, b) => (BigInt(b.ts) > BigInt(a.ts) ? 1 : -1))[0];
  if (latest) {
    const ago = Math.max(0, Number((endNs - BigInt(latest.ts)) / 1_000_000_000n));
    return [ok(LOG_LINES, `latest ${o.lokiSelector} line ${ago} s ago: ${excerpt(latest.line, 90)}`)];
  }
  // Say which streams do exist: none at all points at Promtail, others but not the backend's at its labels.
  const l = await httpGet(`${base}/loki/api/v1/label/service/values?start=${startNs}&end=${endNs}`, o);
  const values = l.kind === 'answer' ? (parseBody(l.text, labelValuesSchema)?.data ?? []) : [];
  const fix =
    values.length === 0
      ? `no container logs reach Loki: ${COMPOSE} logs --tail=20 promtail (it reads /var/run/docker.sock; on Docker Desktop allow the default socket), and only containers labelled logging=promtail are shipped`
      : `Loki has logs of ${values.join(', ')} but none matching ${o.lokiSelector}: is the backend running and labelled logging=promtail (${COMPOSE} ps backend)?`;
  return [miss(LOG_LINES, `no ${o.lokiSelector} line in the last ${o.lookbackSeconds / 60} minutes`, fix)];
}
