import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../../telemetry/logger';
import { isInfrastructurePath, routeOf } from './observe-request';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * One flat JSON line per request (method, route, status, duration, request id,
 * trace ids), easy to parse in Promtail. Flat rather than pino-http's nested
 * req/res objects: fewer allocations, and Loki's json stage reads top-level keys.
 */
export function requestLogger(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    quietReqLogger: true,
    quietResLogger: true,
    customAttributeKeys: { reqId: 'req_id' },
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    autoLogging: { ignore: (req: IncomingMessage) => isInfrastructurePath((req as Request).path ?? req.url ?? '') },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    customSuccessMessage: (req, res) => `${req.method} ${routeOf(req as Request)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${routeOf(req as Request)} ${res.statusCode}`,
    customSuccessObject: (req, res, val: { responseTime: number }) => requestLine(req as Request, res as Response, val.responseTime),
    customErrorObject: (req, res, _err, val: { responseTime: number }) =>
      requestLine(req as Request, res as Response, val.responseTime),
  });
}

function requestLine(req: Request, res: Response, responseTime: number): Record<string, unknown> {
  return {
    method: req.method,
    route: routeOf(req),
    path: req.path,
    status_code: res.statusCode,
    duration_ms: responseTime,
    ...(res.locals.traceIds ?? {}),
  };
}
