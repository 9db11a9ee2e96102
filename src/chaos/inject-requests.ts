import type { RequestHandler } from 'express';
import { AppError } from '../domain/errors';
import { annotateSpan } from '../telemetry/tracer';
import { routeTemplate } from '../http/route-template';
import { CHAOS_SPAN_ATTRIBUTE, type FaultName } from './faults';
import type { ChaosMetrics } from './metrics';
import type { ChaosState } from './state';

/** Holds the event loop for `ms`, as CPU-bound code does: nothing else of the process runs meanwhile. */
export function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: the point is not to yield
  }
}

/**
 * Error, latency and event-loop injection, mounted on each API route ahead of its handler, so
 * Express has already set req.route: an injected 500 is counted under its route on the
 * RED dashboard and its server span is named "GET /api/products", not "unmatched".
 * With no request fault on, a request costs one boolean check.
 */
export function injectRequestFaults(state: ChaosState, metrics: ChaosMetrics): RequestHandler {
  return (req, _res, next) => {
    if (!state.requestFaults) {
      next();
      return;
    }
    const template = routeTemplate(req);
    if (template === undefined || !state.scope(req.path, template)) {
      next();
      return;
    }

    const { latencyMs, errorRate, eventLoopBlockMs } = state.faults;
    const faults: FaultName[] = [];
    if (eventLoopBlockMs > 0) faults.push('event_loop_block');
    if (latencyMs > 0) faults.push('latency');
    const fail = errorRate > 0 && Math.random() < errorRate;
    if (fail) faults.push('error');
    if (faults.length === 0) {
      next();
      return;
    }
    // One attribute for the request's faults: a second annotateSpan call would overwrite the first.
    annotateSpan({ [CHAOS_SPAN_ATTRIBUTE]: faults.join(',') });
    for (const f of faults) metrics.injected(f);
    if (eventLoopBlockMs > 0) blockEventLoop(eventLoopBlockMs);

    const proceed = () => {
      if (!fail) {
        next();
        return;
      }
      next(new AppError(500, 'CHAOS_INJECTED', 'fault injected: this request was chosen to fail (errorRate)'));
    };
    if (latencyMs > 0) setTimeout(proceed, latencyMs);
    else proceed();
  };
}
