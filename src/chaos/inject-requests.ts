import type { Request, RequestHandler } from 'express';
import { AppError } from '../domain/errors';
import { annotateSpan } from '../telemetry/trace-context';
import { CHAOS_SPAN_ATTRIBUTE, isProtectedPath, type FaultName } from './faults';
import type { ChaosMetrics } from './metrics';
import { RouteTable } from './route-table';
import type { ChaosState } from './state';

/**
 * The request never reaches its route, so Express does not name it: name it here, as
 * Express would have. The request metrics and the server span's name both read
 * req.route, so the injected 500 is counted under its route (http_requests_total{route})
 * and its span is "GET /api/products", not "unmatched" and "GET": the RED dashboard and
 * Jaeger then show where the errors are.
 */
function nameRoute(req: Request, template: string): void {
  req.route = { path: template };
}

/**
 * Error and latency injection, mounted before the routes. With no request fault on,
 * a request costs one boolean check.
 */
export function injectRequestFaults(state: ChaosState, metrics: ChaosMetrics): RequestHandler {
  const routes = new RouteTable();
  return (req, _res, next) => {
    if (!state.requestFaults) return next();
    if (!req.path.startsWith('/api/') || isProtectedPath(req.path)) return next();
    const template = routes.templateOf(req);
    if (template === undefined || !state.scope(req.path, template)) return next();

    const { latencyMs, errorRate } = state.faults;
    const faults: FaultName[] = [];
    if (latencyMs > 0) faults.push('latency');
    const fail = errorRate > 0 && Math.random() < errorRate;
    if (fail) faults.push('error');
    if (faults.length === 0) return next();
    // One attribute for the request's faults: a second annotateSpan call would overwrite the first.
    annotateSpan({ [CHAOS_SPAN_ATTRIBUTE]: faults.join(',') });
    for (const f of faults) metrics.injected(f);

    const proceed = () => {
      if (!fail) return next();
      nameRoute(req, template);
      next(new AppError(500, 'CHAOS_INJECTED', 'fault injected: this request was chosen to fail (errorRate)'));
    };
    if (latencyMs > 0) setTimeout(proceed, latencyMs);
    else proceed();
  };
}
