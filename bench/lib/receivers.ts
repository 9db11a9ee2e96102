import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import protobuf from 'protobufjs';
import { readBody } from '../../testkit/loopback-receiver';
import { decodeTraces } from '../../testkit/otlp-receiver';

/**
 * Loopback stand-ins for Jaeger's OTLP intake and the Elastic APM server that decode
 * what arrives and count it, without keeping it: a bench run sends hundreds of
 * thousands of spans. Spans are attributed to the request (trace) they belong to,
 * and a trace to the endpoint its root names, so spans per request come out right
 * however the exporter batches them in time.
 */
export class TraceTally {
  private readonly spansByTrace = new Map<string, number>();
  private readonly rootName = new Map<string, string>();
  total = 0;

  add(traceKey: string, rootName?: string): void {
    this.total++;
    this.spansByTrace.set(traceKey, (this.spansByTrace.get(traceKey) ?? 0) + 1);
    if (rootName !== undefined) this.rootName.set(traceKey, rootName);
  }

  /** Spans of traces whose root's name contains `needle` (e.g. "/api/products"), and how many traces. */
  countFor(needle: string): { spans: number; traces: number } {
    let spans = 0;
    let traces = 0;
    for (const [key, name] of this.rootName) {
      if (!name.includes(needle)) continue;
      traces++;
      spans += this.spansByTrace.get(key) ?? 0;
    }
    return { spans, traces };
  }

  reset(): void {
    this.spansByTrace.clear();
    this.rootName.clear();
    this.total = 0;
  }
}

/** The subset of opentelemetry-proto a tally needs (upstream field numbers; the rest is skipped). */
const SLIM_PROTO = `
syntax = "proto3";
package slim;
message Span { bytes trace_id = 1; bytes parent_span_id = 4; string name = 5; int32 kind = 6; }
message ScopeSpans { repeated Span spans = 2; }
message ResourceSpans { repeated ScopeSpans scope_spans = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`;
const SlimRequest = protobuf.parse(SLIM_PROTO, { keepCase: false }).root.lookupType('slim.ExportTraceServiceRequest');

interface SlimSpan {
  traceId: Uint8Array;
  parentSpanId?: Uint8Array;
  name: string;
  kind: number;
}
interface SlimExport {
  resourceSpans?: { scopeSpans?: { spans?: SlimSpan[] }[] }[];
}

const SERVER = 2;

abstract class Receiver {
  readonly tally = new TraceTally();
  requests = 0;
  url = '';
  private readonly pending = new Set<Promise<void>>();
  private readonly server = http.createServer((req, res) => {
    const p = this.handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(400).end();
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  });

  protected abstract handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Waits for every request already received to be decoded. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** OTLP/HTTP traces, protobuf (decoded with a slim schema) or JSON (decoded fully). */
export class CountingOtlpReceiver extends Receiver {
  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    this.requests++;
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.writeHead(404).end();
      return;
    }
    const contentType = req.headers['content-type'] ?? '';
    if (contentType.includes('json')) {
      for (const s of decodeTraces(body, contentType)) {
        this.tally.add(s.traceId, s.kind === SERVER && !s.parentSpanId ? s.name : undefined);
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      return;
    }
    const data = SlimRequest.decode(body) as unknown as SlimExport;
    for (const rs of data.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const root = s.kind === SERVER && !(s.parentSpanId && s.parentSpanId.length);
          this.tally.add(Buffer.from(s.traceId).toString('hex'), root ? s.name : undefined);
        }
      }
    }
    res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
  }
}

/**
 * The Elastic APM server's intake v2: a long-lived gzip ND-JSON stream, decoded as it
 * arrives. Transactions and spans count as spans; a transaction names the trace.
 */
export class CountingApmReceiver extends Receiver {
  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.requests++;
    if (req.method === 'GET' && (req.url === '/' || req.url === '')) {
      await readBody(req);
      res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ version: '8.19.0', build_date: '2025-01-01T00:00:00Z', build_sha: 'bench' }));
      return;
    }
    if (req.method !== 'POST' || !req.url?.startsWith('/intake/v2/events')) {
      await readBody(req);
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{}');
      return;
    }
    const input: Readable = req.headers['content-encoding'] === 'gzip' ? req.pipe(zlib.createGunzip()) : req;
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      if (!line) continue;
      const event = JSON.parse(line) as { transaction?: { trace_id: string; name: string }; span?: { trace_id: string } };
      if (event.transaction) this.tally.add(event.transaction.trace_id, event.transaction.name);
      else if (event.span) this.tally.add(event.span.trace_id);
    }
    res.writeHead(202).end();
  }
}
