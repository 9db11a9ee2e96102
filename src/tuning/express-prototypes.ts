import http, { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Express } from 'express';

/**
 * http.createServer(app), but its requests and responses are created with Express's
 * prototypes, so Express's own Object.setPrototypeOf on each is a no-op: V8 handles a
 * prototype change on a live object badly (new maps, megamorphic access, promoted garbage;
 * docs/benchmark.md). Node's IncomingMessage and ServerResponse are plain constructor
 * functions, so a function with Express's prototype that runs Node's constructor on
 * `this` makes them; should a future Node make them classes, this falls back to the plain server.
 */
export function createExpressPrototypeServer(app: Express): http.Server {
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
