import type { RequestHandler } from 'express';
import { AppError } from '../../domain/errors';

/**
 * A body whose Content-Length already exceeds `limitBytes` is refused with 413 before any of
 * it is read: body-parser would read it all first. The connection closes after the answer,
 * so the client stops sending. A compressed body is left to body-parser, whose limit is on
 * the inflated size.
 */
export function refuseAnnouncedOversize(limitBytes: number): RequestHandler {
  return (req, res, next) => {
    const encoding = (req.get('content-encoding') ?? 'identity').trim().toLowerCase();
    const length = Number(req.get('content-length'));
    if (encoding === 'identity' && length > limitBytes) {
      res.setHeader('Connection', 'close');
      next(new AppError(413, 'PAYLOAD_TOO_LARGE', 'request body is too large'));
      return;
    }
    next();
  };
}
