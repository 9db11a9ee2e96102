import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

/** A request body as it came over the wire. */
async function readRaw(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A body decompressed the way the telemetry exporters send it (gzip or deflate). */
function decompressed(raw: Buffer, encoding: string | undefined): Promise<Buffer> {
  if (encoding === 'gzip') return promisify(zlib.gunzip)(raw);
  if (encoding === 'deflate') return promisify(zlib.inflate)(raw);
  return Promise.resolve(raw);
}

/** A request body, decompressed the way the telemetry exporters send it (gzip or deflate). */
export async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return decompressed(await readRaw(req), req.headers['content-encoding']);
}

/**
 * The shared shell of the tests' protocol receivers: an HTTP server on a free
 * loopback port that hands each request, with its decoded body (and the bytes as
 * they came, for a receiver that checks a signature over them), to handle().
 */
export abstract class LoopbackReceiver {
  protected readonly server = http.createServer((req, res) => {
    void readRaw(req).then(async (raw) => this.handle(req, res, await decompressed(raw, req.headers['content-encoding']), raw));
  });
  url = '';

  protected abstract handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, raw: Buffer): void | Promise<void>;

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
