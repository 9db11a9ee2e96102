import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import express, { type RequestHandler } from 'express';
import { AppError } from '../domain/errors';
import { jsonBody } from '../http/json-body';
import { refuseAnnouncedOversize } from '../http/middleware/body-limit';
import { requireJson } from '../http/middleware/errors';

export const SIGNATURE_HEADER = 'X-Hub-Signature-256';

/** What GitHub sends in X-Hub-Signature-256: `sha256=` and the hex HMAC-SHA256 of the raw body under the webhook's secret. */
export function githubSignature(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Constant-time check of a delivery's signature header against its raw body. */
export function hasValidSignature(secret: string, body: Buffer, header: string): boolean {
  const expected = Buffer.from(githubSignature(secret, body));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const mismatch = () => new AppError(403, 'SIGNATURE_MISMATCH', `${SIGNATURE_HEADER} does not match the body under GITHUB_WEBHOOK_SECRET`);

/**
 * How a GitHub delivery's JSON body is read. With a secret it must be signed: no
 * X-Hub-Signature-256 → 401 before the body is read, one that does not match the raw
 * body → 403 before it is parsed, so a forged or altered event writes nothing. Without
 * a secret every delivery is accepted, as on a private network.
 */
export function githubWebhookBody(secret: string | undefined, limit: number): RequestHandler[] {
  if (!secret) return jsonBody(limit);
  const verified = new WeakSet<IncomingMessage>();
  return [
    requireJson,
    (req, _res, next) => {
      if (req.get(SIGNATURE_HEADER)) {
        next();
        return;
      }
      next(new AppError(401, 'SIGNATURE_REQUIRED', `send ${SIGNATURE_HEADER}: set the webhook's secret to GITHUB_WEBHOOK_SECRET`));
    },
    refuseAnnouncedOversize(limit),
    express.json({
      limit,
      strict: true,
      // Called with the raw body before it is parsed; what it throws ends the request.
      verify: (req, _res, body) => {
        const header = req.headers[SIGNATURE_HEADER.toLowerCase()];
        if (typeof header !== 'string' || !hasValidSignature(secret, body, header)) throw mismatch();
        verified.add(req);
      },
    }),
    // Fail closed: whatever reaches the handler without its body verified (body-parser skips
    // verify when there is no body) is refused too.
    (req, _res, next) => next(verified.has(req) ? undefined : mismatch()),
  ];
}
