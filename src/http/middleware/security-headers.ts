import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The headers every response carries. The API serves JSON and no page, so the policy
 * loads nothing and may not be framed; HSTS is left to whatever terminates TLS in front,
 * as the service itself speaks plain HTTP.
 */
export function securityHeaders(): RequestHandler[] {
  return [
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      xFrameOptions: { action: 'deny' },
      strictTransportSecurity: false,
    }),
    // Orders, health, metrics and errors change with every request and orders name a
    // customer: nothing is stored unless a route says otherwise (product reads do).
    (_req, res, next) => {
      res.setHeader('Cache-Control', 'no-store');
      next();
    },
  ];
}

/**
 * A product read may be kept, but revalidated before each reuse: an order changes stock at
 * once, and the service invalidates its own cache then, which no cache outside it hears of.
 */
export const PRODUCT_CACHE_CONTROL = 'no-cache';
