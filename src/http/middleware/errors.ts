import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError } from '../../domain/errors';
import { recordSpanError } from '../../telemetry/tracer';
import { statusCodeName, statusText } from '../status-code';

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

/** An http-errors style status (`status` or `statusCode`) when it is a client error, 400-499. */
function clientStatus(err: unknown): number | undefined {
  const e = err as { status?: unknown; statusCode?: unknown } | null;
  const status = e?.status ?? e?.statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500 ? status : undefined;
}

function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  const type = (err as { type?: unknown } | null)?.type;
  const known = typeof type === 'string' ? parserErrors[type] : undefined;
  if (known) return new AppError(known.status, known.code, known.message);
  // The router fails to decode a path parameter such as %zz with a URIError.
  if (err instanceof URIError && clientStatus(err) === 400)
    return new AppError(400, 'INVALID_PATH', 'the path is not valid percent-encoded UTF-8', undefined, { cause: err });
  // Any other library error that says it is the client's fault keeps its status; by the
  // http-errors convention its message is meant for the client only when it says `expose`.
  const status = clientStatus(err);
  if (status === undefined) return undefined;
  const e = err as { expose?: unknown; message?: unknown };
  const message = e.expose === true && typeof e.message === 'string' && e.message ? e.message.slice(0, 200) : statusText(status);
  return new AppError(status, statusCodeName(status), message, undefined, { cause: err });
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
    recordSpanError(error, appError?.code ?? 'INTERNAL');
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

/**
 * Every router answers OPTIONS by itself with a text/plain list of its methods. The API
 * serves no OPTIONS (no CORS), so it is an unknown route in JSON like any other method.
 */
export const refuseOptions: RequestHandler = (req, res, next) => {
  if (req.method === 'OPTIONS') notFound(req, res, next);
  else next();
};

/** A POST with a body must say it is JSON; anything else is refused before parsing. */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (!req.is('application/json')) {
    next(new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'request body must be JSON (Content-Type: application/json)'));
    return;
  }
  next();
};
