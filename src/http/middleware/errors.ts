import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError } from '../../domain/errors';
import { recordSpanError } from '../../telemetry/request-span';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** Errors body-parser raises, by its `type`, as the answer a client should get. */
const parserErrors: Record<string, { status: number; code: string; message: string }> = {
  'entity.parse.failed': { status: 400, code: 'INVALID_JSON', message: 'request body is not valid JSON' },
  'entity.too.large': { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'request body is too large' },
  'encoding.unsupported': { status: 415, code: 'UNSUPPORTED_ENCODING', message: 'unsupported content encoding' },
  'charset.unsupported': { status: 415, code: 'UNSUPPORTED_CHARSET', message: 'unsupported charset' },
  'request.aborted': { status: 400, code: 'REQUEST_ABORTED', message: 'request aborted' },
};

function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  const type = (err as { type?: unknown } | null)?.type;
  const known = typeof type === 'string' ? parserErrors[type] : undefined;
  return known ? new AppError(known.status, known.code, known.message) : undefined;
}

/** The one place errors become responses: JSON, never a stack trace. */
export const errorHandler: ErrorRequestHandler = (err: unknown, req, res, next) => {
  if (res.headersSent) {
    next(err);
    return;
  }
  const appError = toAppError(err);
  const status = appError?.status ?? 500;
  if (status >= 500) {
    const cause = appError?.cause ?? err;
    const error = cause instanceof Error ? cause : new Error(String(cause));
    recordSpanError(error);
    req.log?.error({ err: error }, appError ? appError.message : 'unhandled error');
  }
  if (status === 503) res.setHeader('Retry-After', '5');
  const body: ErrorBody = appError
    ? { error: { code: appError.code, message: appError.message, ...(appError.details === undefined ? {} : { details: appError.details }) } }
    : { error: { code: 'INTERNAL', message: 'internal server error' } };
  res.status(status).json(body);
};

export const notFound: RequestHandler = (req, _res, next) => {
  next(new AppError(404, 'ROUTE_NOT_FOUND', `no route for ${req.method} ${req.path.slice(0, 200)}`));
};

/** A POST with a body must say it is JSON; anything else is refused before parsing. */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (!req.is('application/json')) {
    next(new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'request body must be JSON (Content-Type: application/json)'));
    return;
  }
  next();
};
