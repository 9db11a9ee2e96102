import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../../domain/errors';

const digest = (s: string) => createHash('sha256').update(s).digest();

export interface BearerTokenOptions {
  /** The WWW-Authenticate realm, naming what the token opens. */
  realm: string;
  /** The variable the token is configured by, named in the 401's message. */
  variable: string;
}

/**
 * Bearer-token guard: no credentials → 401, wrong token → 403. Both sides are hashed
 * first so the constant-time compare also hides the token's length. Mount it before
 * any body parser: a caller without the token should not get a body read.
 */
export function requireBearerToken(token: string, { realm, variable }: BearerTokenOptions): RequestHandler {
  const expected = digest(token);
  return (req, res, next) => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!match?.[1]) {
      res.setHeader('WWW-Authenticate', `Bearer realm="${realm}"`);
      next(new AppError(401, 'UNAUTHORIZED', `send Authorization: Bearer <${variable}>`));
      return;
    }
    if (!timingSafeEqual(digest(match[1]), expected)) {
      req.log?.warn({ realm }, 'wrong bearer token');
      next(new AppError(403, 'FORBIDDEN', 'the token is not valid for this endpoint'));
      return;
    }
    next();
  };
}

/**
 * The guard of the endpoints other systems push to (Alertmanager's receivers, CI's
 * deployment records): none without WEBHOOK_TOKEN, so a laptop run stays open, and a
 * bearer-token check with it. GitHub's webhook signs its bodies instead.
 */
export function webhookGuard(token: string | undefined): RequestHandler[] {
  return token ? [requireBearerToken(token, { realm: 'cloudmart-webhooks', variable: 'WEBHOOK_TOKEN' })] : [];
}
