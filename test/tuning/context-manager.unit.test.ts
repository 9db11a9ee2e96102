import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { HttpMessageContextManager } from '../../src/tuning/context-manager';

const KEY = createContextKey('test.request');

/** One request (a POST when there is a body) to a loopback server with this handler. */
async function serveOnce(handler: (req: IncomingMessage, res: ServerResponse) => void, body?: string): Promise<void> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, body === undefined ? {} : { method: 'POST', body });
    await res.arrayBuffer();
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('HttpMessageContextManager', () => {
  test('When a request and its response are bound, then their listeners run in that context, wherever the event comes from', async () => {
    const manager = new HttpMessageContextManager().enable();
    const seen: Record<string, unknown> = {};
    let closed: () => void = () => undefined;
    const responseClosed = new Promise<void>((resolve) => (closed = resolve));
    await serveOnce((req, res) => {
      const ctx = ROOT_CONTEXT.setValue(KEY, 'request-1');
      manager.bind(ctx, req);
      manager.bind(ctx, res);
      // Registered outside that context, as a framework would from a later callback.
      req.on('data', () => (seen.data = manager.active().getValue(KEY)));
      req.on('end', () => {
        seen.end = manager.active().getValue(KEY);
        res.end('ok');
      });
      res.once('finish', () => (seen.finish = manager.active().getValue(KEY)));
      res.on('close', () => {
        seen.close = manager.active().getValue(KEY);
        closed();
      });
    }, 'a body');
    await responseClosed;
    manager.disable();
    assert.deepEqual(seen, { data: 'request-1', end: 'request-1', finish: 'request-1', close: 'request-1' });
  });

  test('When a message is not bound, then its listeners run in the context the event is emitted in', async () => {
    const manager = new HttpMessageContextManager().enable();
    let seen: unknown = 'not called';
    await serveOnce((_req, res) => {
      res.on('finish', () => (seen = manager.active().getValue(KEY)));
      res.end('ok');
    });
    manager.disable();
    assert.equal(seen, undefined);
  });

  test('When another emitter or a function is bound, then the stock binding applies', () => {
    const manager = new HttpMessageContextManager().enable();
    const ctx = ROOT_CONTEXT.setValue(KEY, 'bound');
    const ee = manager.bind(ctx, new EventEmitter());
    let fromEmitter: unknown;
    ee.on('ping', () => (fromEmitter = manager.active().getValue(KEY)));
    ee.emit('ping');
    const fn = manager.bind(ctx, () => manager.active().getValue(KEY));
    const fromFunction = fn();
    manager.disable();
    assert.equal(fromEmitter, 'bound');
    assert.equal(fromFunction, 'bound');
  });

  test('When the manager is disabled, then the HTTP prototypes have their own emit again', () => {
    const before = [IncomingMessage.prototype.emit, ServerResponse.prototype.emit];
    const manager = new HttpMessageContextManager().enable();
    assert.notEqual(ServerResponse.prototype.emit, before[1]);
    manager.disable();
    assert.deepEqual([IncomingMessage.prototype.emit, ServerResponse.prototype.emit], before);
    assert.equal(Object.prototype.hasOwnProperty.call(ServerResponse.prototype, 'emit'), false);
  });
});
