import http, { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Express } from 'express';

/**
 * An HTTP server for an Express app whose request and response objects are created
 * with Express's prototypes from the start.
 *
 * Express re-parents every incoming req and res with Object.setPrototypeOf (in
 * app.handle). V8 handles a prototype change on a live object badly: both objects get
 * fresh maps, property access on them goes megamorphic, and, measured here, roughly
 * 1.4 MB of young objects per scavenge outlive it and are promoted, so the old
 * generation churns and mark-compacts run every few hundred milliseconds under load.
 * When the object already has the right prototype, Express's setPrototypeOf is a no-op.
 * Measured on a minimal Express 5 app: 8,000 → 14,800 req/s, promotion 1.4 MB → 0 per
 * scavenge (README, "Benchmark: the cost of observability").
 *
 * Node's IncomingMessage and ServerResponse are plain constructor functions, so a
 * function whose prototype is Express's and which runs Node's constructor on `this`
 * makes the objects directly. (Reflect.construct would work for classes too, but V8
 * does not optimize it with a function as new.target: measured 3x slower.) Should a
 * future Node make them classes, this falls back to the plain server.
 */
export function createHttpServer(app: Express): http.Server {
  if (!isPlainFunction(IncomingMessage) || !isPlainFunction(ServerResponse)) return http.createServer(app);
  const initRequest = IncomingMessage as unknown as (this: IncomingMessage, socket: Socket) => void;
  const initResponse = ServerResponse as unknown as (this: ServerResponse, req: IncomingMessage, options?: unknown) => void;

  function ExpressRequest(this: IncomingMessage, socket: Socket): void {
    initRequest.call(this, socket);
  }
  ExpressRequest.prototype = app.request;

  function ExpressResponse(this: ServerResponse, req: IncomingMessage, options?: unknown): void {
    initResponse.call(this, req, options);
  }
  ExpressResponse.prototype = app.response;

  return http.createServer(
    {
      IncomingMessage: ExpressRequest as unknown as typeof IncomingMessage,
      ServerResponse: ExpressResponse as unknown as typeof ServerResponse,
    },
    app,
  );
}

function isPlainFunction(f: unknown): boolean {
  return typeof f === 'function' && !/^class\b/.test(Function.prototype.toString.call(f));
}
