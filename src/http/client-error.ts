import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorBody } from './middleware/errors';
import { statusText } from './status-code';

/** Node's own answer to each parser error it names (lib/_http_server.js), with a code and message for the client. */
const answers: Record<string, { status: number; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, code: 'REQUEST_HEADER_FIELDS_TOO_LARGE', message: 'the request line or headers are too large' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'the chunk extensions are too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'REQUEST_TIMEOUT', message: 'the request did not arrive in time' },
};
const malformed = { status: 400, code: 'BAD_REQUEST', message: 'the request is not valid HTTP/1.1' };

/** A whole HTTP/1.1 response that closes the connection, with the API's JSON error body. */
export function clientErrorResponse(parserCode: string | undefined): { status: number; text: string } {
  const { status, code, message } = (parserCode === undefined ? undefined : answers[parserCode]) ?? malformed;
  const body = JSON.stringify({ error: { code, message } } satisfies ErrorBody);
  const head = [
    `HTTP/1.1 ${status} ${statusText(status)}`,
    'Content-Type: application/json; charset=utf-8',
    // The headers every response of the app carries (src/http/middleware/security-headers.ts).
    'X-Content-Type-Options: nosniff',
    'Cache-Control: no-store',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
  ];
  return { status, text: `${head.join('\r\n')}\r\n\r\n${body}` };
}

/**
 * Node answers a request its parser refuses (not HTTP, a URL or headers over the limit, a
 * timeout) with a bare status line before Express sees it; this answers it with the JSON
 * error body instead, then closes the connection as Node does.
 */
export function answerClientErrors(server: Server, onAnswer?: (err: Error, status: number) => void): void {
  // The last response each connection owes: the refused request's answer must follow it.
  const owed = new WeakMap<object, ServerResponse>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    owed.set(req.socket, res);
    res.once('close', () => {
      if (owed.get(req.socket) === res) owed.delete(req.socket);
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A peer that reset the connection reads nothing more.
    if (err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const answer = () => {
      // A connection its last response closed has no room for another.
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      const { status, text } = clientErrorResponse(err.code);
      onAnswer?.(err, status);
      socket.end(text, () => socket.destroy());
    };
    const res = owed.get(socket);
    // A response already being written would be corrupted by another one in its middle, so
    // the answer waits for it; one not yet begun never will be, as the connection closes.
    if (res?.headersSent && !res.writableFinished) {
      res.once('finish', answer);
      res.once('close', () => {
        if (!res.writableFinished) socket.destroy();
      });
    } else {
      answer();
    }
  });
}
