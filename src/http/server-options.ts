import type { ServerOptions } from 'node:http';

/**
 * The HTTP server's timeouts, given at creation: Node reads them there (a requestTimeout
 * set afterwards leaves the headers timeout at its own default, and Node then applies the
 * larger of the two to the body) and starts its timeout checks when the server listens.
 */
export function serverOptions(requestTimeoutMs: number): ServerOptions {
  return {
    // The whole request, headers and body, within REQUEST_TIMEOUT_MS, as the docs say.
    requestTimeout: requestTimeoutMs,
    headersTimeout: requestTimeoutMs,
    // Node checks for expired requests only this often, so a cut comes at most this late.
    connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(requestTimeoutMs / 10))),
    // nginx closes each upstream connection after its response (docker/nginx/nginx.conf), so an
    // idle keep-alive only serves direct clients; a short one keeps idle sockets from piling up.
    keepAliveTimeout: 5000,
  };
}
