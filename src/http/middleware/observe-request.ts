import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Metrics } from '../../telemetry/metrics';
import { currentTraceIds, type TraceIds } from '../../telemetry/trace-context';

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

/**
 * The route template, never the raw URL: routes are declared with their full path,
 * so req.route.path is the template ("/api/products/:id") wherever the request ended.
 */
export function routeOf(req: Request): string {
  const path: unknown = req.route?.path;
  return typeof path === 'string' ? path : UNMATCHED_ROUTE;
}

/** RED metrics per route template, with the trace id as the latency exemplar. */
export function observeRequests(metrics: Metrics, enabled: boolean): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    // Captured now, inside the server span's context: by 'finish' the context may be gone.
    const traceIds = currentTraceIds();
    if (traceIds) res.locals.traceIds = traceIds;
    if (!enabled || isInfrastructurePath(req.path)) return next();

    const start = process.hrtime.bigint();
    metrics.httpInFlight.inc();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      metrics.httpInFlight.dec();
      const labels = {
        method: KNOWN_METHODS.has(req.method) ? req.method : 'OTHER',
        route: routeOf(req),
        status_code: String(res.statusCode),
      };
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe({
        labels,
        value: seconds,
        // prom-client types exemplar labels as the metric's own label names; they are free-form.
        exemplarLabels: (traceIds ? { trace_id: traceIds.trace_id } : {}) as Record<string, string>,
      });
    };
    // 'close' also covers clients that hang up before the response is finished.
    res.once('finish', finish);
    res.once('close', finish);
    next();
  };
}
