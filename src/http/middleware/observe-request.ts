import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../telemetry/logger';
import type { HttpLabels, Metrics } from '../../telemetry/metrics';
import { currentTraceIds, type TraceIds } from '../../telemetry/trace-context';
import { routeTemplate } from '../route-template';
import { assignRequestId, requestLines } from './request-logger';

/** The label every request that matched no route shares, so unknown URLs add no series. */
export const UNMATCHED_ROUTE = 'unmatched';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Paths that are infrastructure, not traffic: left out of request metrics and logs. */
export function isInfrastructurePath(path: string): boolean {
  return path === '/metrics' || path === '/health' || path.startsWith('/health/');
}

declare module 'express-serve-static-core' {
  interface Locals {
    traceIds?: TraceIds;
  }
}

/** The route template for the metrics' `route` label; unmatched requests share one value. */
export function routeOf(req: Request): string {
  return routeTemplate(req) ?? UNMATCHED_ROUTE;
}

type HttpLabelValues = Readonly<Record<HttpLabels, string>>;

/** No exemplar: prom-client skips the exemplar update for an empty label set. */
const NO_EXEMPLAR: Record<string, string> = {};

/**
 * One label object per (method, route, status) series, found through nested
 * maps keyed by the values themselves: no label object is allocated and no key string
 * is built per request. The series are bounded (known methods, route templates, status
 * codes), so the cache is too.
 */
class LabelCache {
  private readonly byMethod = new Map<string, Map<string, Map<number, HttpLabelValues>>>();

  get(method: string, route: string, status: number): HttpLabelValues {
    let byRoute = this.byMethod.get(method);
    if (!byRoute) this.byMethod.set(method, (byRoute = new Map()));
    let byStatus = byRoute.get(route);
    if (!byStatus) byRoute.set(route, (byStatus = new Map()));
    let labels = byStatus.get(status);
    if (!labels) byStatus.set(status, (labels = { method, route, status_code: String(status) }));
    return labels;
  }
}

/**
 * The one observer of every request, as a single middleware with a single 'close'
 * listener and one clock read: RED metrics per route template (with the trace id as
 * the latency exemplar), the request id, and the request log line. One Express layer
 * instead of two also means one less layer for the tracer's Express patch to walk.
 */
export function observeRequests(metrics: Metrics, metricsEnabled: boolean, logger: Logger): RequestHandler {
  const series = new LabelCache();
  const lines = requestLines(logger);
  return (req: Request, res: Response, next: NextFunction) => {
    // Captured now, inside the server span's context: by 'close' the context may be gone.
    const traceIds = currentTraceIds();
    if (traceIds) res.locals.traceIds = traceIds;
    const id = assignRequestId(req, res, logger);
    if (isInfrastructurePath(req.path)) return next();
    const logged = lines.enabled();
    if (!metricsEnabled && !logged) return next();

    const start = performance.now();
    if (metricsEnabled) metrics.httpInFlight.inc();
    // 'close' follows 'finish' and also fires when the client hangs up first: one listener for both.
    res.on('close', () => {
      const ms = performance.now() - start;
      const route = routeOf(req);
      if (metricsEnabled) {
        metrics.httpInFlight.dec();
        const labels = series.get(KNOWN_METHODS.has(req.method) ? req.method : 'OTHER', route, res.statusCode);
        metrics.httpRequests.inc(labels);
        metrics.httpDuration.observe({
          labels,
          value: ms / 1000,
          // prom-client types exemplar labels as the metric's own label names; they are free-form.
          exemplarLabels: traceIds ? ({ trace_id: traceIds.trace_id } as Record<string, string>) : NO_EXEMPLAR,
        });
      }
      if (logged) lines.write(req, res, id, route, ms, traceIds);
    });
    next();
  };
}
