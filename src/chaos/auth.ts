import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../domain/errors';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Bearer-token guard: no credentials → 401, wrong token → 403. Both sides are hashed
 * first so the constant-time compare also hides the token's length.
 */
export function requireBearerToken(token: string): RequestHandler {
  const expected = digest(token);
  return (req, res, next) => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!match?.[1]) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="cloudmart-chaos"');
      return next(new AppError(401, 'UNAUTHORIZED', 'send Authorization: Bearer <CHAOS_TOKEN>'));
    }
    if (!timingSafeEqual(digest(match[1]), expected)) {
      req.log?.warn('chaos endpoint: wrong token');
      return next(new AppError(403, 'FORBIDDEN', 'the token is not valid for this endpoint'));
    }
    next();
  };
}
