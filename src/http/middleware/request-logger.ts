import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Logger } from '../../telemetry/logger';
import type { TraceIds } from '../../telemetry/tracer';
import { lazyRequestLogger } from '../../tuning/request-log';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

declare module 'http' {
  interface IncomingMessage {
    /** The request id: the caller's X-Request-Id when it is sane, else a UUID. */
    id?: string;
    /** A logger bound to this request's req_id. */
    log?: Logger;
  }
}

/** Gives the request its id (the caller's X-Request-Id when sane, else a UUID), echoes it, and binds req.log to it. */
export function assignRequestId(req: Request, res: Response, logger: Logger, lazyLog: boolean): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  req.id = id;
  if (lazyLog) lazyRequestLogger(req, logger);
  else req.log = logger.child({ req_id: id });
  return id;
}

export interface RequestLines {
  /** False when the level would drop every request line (LOG_LEVEL=silent, fatal). */
  enabled(): boolean;
  write(req: Request, res: Response, id: string, route: string, durationMs: number, ids: TraceIds | undefined): void;
}

/**
 * One flat JSON line per request (req_id, method, route, path, status_code,
 * duration_ms, trace_id, span_id, trace_flags; level info, warn for 4xx, error for 5xx), easy to
 * parse in Promtail: Loki's json stage reads top-level keys. Written by the request
 * observer (observe-request.ts), which times the request once for metrics and log.
 */
export function requestLines(logger: Logger): RequestLines {
  // The request line has a fixed shape with no secrets in it, so it skips the redaction
  // pass (a wildcard path makes pino run the redactor on every field of every line).
  // Other lines, req.log included, keep the service's redaction.
  const lines = logger.child({}, { redact: [] });
  return {
    enabled: () => lines.isLevelEnabled('error'),
    write(req, res, id, route, durationMs, ids) {
      const status = res.statusCode;
      const line = {
        req_id: id,
        method: req.method,
        route,
        path: req.path,
        status_code: status,
        // Two decimals: enough for a request line, shorter than a raw float.
        duration_ms: Math.round(durationMs * 100) / 100,
        trace_id: ids?.trace_id,
        span_id: ids?.span_id,
        trace_flags: ids?.trace_flags,
      };
      const msg = `${req.method} ${route} ${status}`;
      if (status >= 500) lines.error(line, msg);
      else if (status >= 400) lines.warn(line, msg);
      else lines.info(line, msg);
    },
  };
}
