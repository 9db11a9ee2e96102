import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

/** A request body, decompressed the way the telemetry exporters send it (gzip or deflate). */
export async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  const enc = req.headers['content-encoding'];
  if (enc === 'gzip') return promisify(zlib.gunzip)(raw);
  if (enc === 'deflate') return promisify(zlib.inflate)(raw);
  return raw;
}

/**
 * The shared shell of the tests' protocol receivers: an HTTP server on a free
 * loopback port that hands each request, with its decoded body, to handle().
 */
export abstract class LoopbackReceiver {
  private readonly server = http.createServer((req, res) => {
    void readBody(req).then((body) => this.handle(req, res, body));
  });
  url = '';

  protected abstract handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void | Promise<void>;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
