import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../telemetry/logger';
import type { Metrics } from '../../telemetry/metrics';
import { currentTraceIds, type TraceIds } from '../../telemetry/tracer';
import { routeTemplate } from '../route-template';
import { isUntrackedPath } from '../untracked-paths';
import { assignRequestId, requestLines } from './request-logger';

/** The label every request that matched no route shares, so unknown URLs add no series. */
export const UNMATCHED_ROUTE = 'unmatched';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

declare module 'express-serve-static-core' {
  interface Locals {
    traceIds?: TraceIds;
  }
}

/** The route template for the metrics' `route` label; unmatched requests share one value. */
export function routeOf(req: Request): string {
  return routeTemplate(req) ?? UNMATCHED_ROUTE;
}

/** No exemplar: prom-client skips the exemplar update for an empty label set. */
const NO_EXEMPLAR: Record<string, string> = {};

export interface ObserveOptions {
  metricsEnabled: boolean;
  untrackedPaths: readonly string[];
  /** src/tuning/ (CLOUDMART_TUNING): req.log created on first read, not per request. */
  tuning: boolean;
}

/**
 * The one observer of every request, as a single middleware with a single 'close'
 * listener and one clock read: RED metrics per route template (with the trace id as
 * the latency exemplar), the request id, and the request log line.
 */
export function observeRequests(metrics: Metrics, logger: Logger, opts: ObserveOptions): RequestHandler {
  const { metricsEnabled, untrackedPaths, tuning } = opts;
  const lines = requestLines(logger);
  return (req: Request, res: Response, next: NextFunction) => {
    // Captured now, inside the server span's context: by 'close' the context may be gone.
    const traceIds = currentTraceIds();
    if (traceIds) res.locals.traceIds = traceIds;
    const id = assignRequestId(req, res, logger, tuning);
    if (isUntrackedPath(req.path, untrackedPaths)) {
      next();
      return;
    }
    const logged = lines.enabled();
    if (!metricsEnabled && !logged) {
      next();
      return;
    }

    const start = performance.now();
    if (metricsEnabled) metrics.httpInFlight.inc();
    // 'close' follows 'finish' and also fires when the client hangs up first: one listener for both.
    res.on('close', () => {
      const ms = performance.now() - start;
      const route = routeOf(req);
      if (metricsEnabled) {
        metrics.httpInFlight.dec();
        const method = KNOWN_METHODS.has(req.method) ? req.method : 'OTHER';
        const labels = { method, route, status_code: String(res.statusCode) };
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
