import { context, type Span } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import { ServerResponse, type IncomingMessage } from 'node:http';
import { routeTemplate } from '../http/route-template';
import { isUntrackedPath } from '../http/untracked-paths';
import { pgRequestHook } from './pg-spans';
import { REDACTED_QUERY_PARAMS } from './redact-url';

/**
 * Only what shows the request's path through the service: the server span, Postgres and
 * Redis. No fs, dns, net, Express middleware or router spans.
 *
 * `httpServerSpans: false` leaves the server span to src/tuning/server-span.ts.
 */
export function instrumentations(untrackedPaths: readonly string[], httpServerSpans = true) {
  return getNodeAutoInstrumentations({
    '@opentelemetry/instrumentation-fs': { enabled: false },
    '@opentelemetry/instrumentation-dns': { enabled: false },
    '@opentelemetry/instrumentation-net': { enabled: false },
    '@opentelemetry/instrumentation-router': { enabled: false },
    '@opentelemetry/instrumentation-connect': { enabled: false },
    '@opentelemetry/instrumentation-pino': { enabled: false },
    '@opentelemetry/instrumentation-runtime-node': { enabled: false },
    '@opentelemetry/instrumentation-undici': { enabled: false },
    '@opentelemetry/instrumentation-http': {
      enabled: httpServerSpans,
      responseHook: routeOnClose,
      ignoreIncomingRequestHook: (req: IncomingMessage) => isUntrackedPath((req.url ?? '').split('?', 1)[0] ?? '', untrackedPaths),
      redactedQueryParamsServer: REDACTED_QUERY_PARAMS,
      // The only outgoing HTTP calls are the exporter's own posts to the collector:
      // not traffic worth tracing, and not patching http.request at all is cheapest.
      disableOutgoingRequestInstrumentation: true,
    },
    // No Express spans: middleware, router and request-handler spans repeat the server
    // span (same route, about the same duration). routeOnClose gives it its route.
    '@opentelemetry/instrumentation-express': { enabled: false },
    // Query spans named by their db.query.summary (`SELECT products`), as the stable
    // database conventions ask, through the instrumentation's requestHook.
    '@opentelemetry/instrumentation-pg': { requireParentSpan: true, ignoreConnectSpans: true, requestHook: pgRequestHook },
    '@opentelemetry/instrumentation-ioredis': { requireParentSpan: true },
  });
}

/**
 * Hands the request's route template ("/api/products/:id", the same routeTemplate the
 * request metrics use) to the http instrumentation the way it expects a framework to:
 * in the RPC metadata of the request's context, the slot the Express instrumentation used
 * to fill. As the response closes, the instrumentation reads it from there and sets
 * http.route on the server span and names the span "GET /api/products/:id".
 * The instrumentation calls this hook before it adds its own 'close' listener, so this
 * listener runs first; it runs in the request's context because the instrumentation has
 * already bound the response to it.
 *
 * This replaces the Express instrumentation, which wrapped every middleware layer and ran
 * route bookkeeping in each, even with all its spans turned off, a cost every request paid
 * (docs/benchmark.md, "No Express instrumentation").
 */
function routeOnClose(_span: Span, response: IncomingMessage | ServerResponse): void {
  if (!(response instanceof ServerResponse)) return;
  response.on('close', () => {
    const route = routeTemplate(response.req);
    const metadata = getRPCMetadata(context.active());
    if (route !== undefined && metadata?.type === RPCType.HTTP) metadata.route = route;
  });
}
