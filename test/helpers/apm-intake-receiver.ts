import type http from 'node:http';
import { LoopbackReceiver } from '../../testkit/loopback-receiver';

/** One decoded event from the Elastic APM intake v2 stream: {metadata}, {transaction}, {span}, {error}, {metricset}. */
export interface IntakeEvent {
  type: string;
  body: Record<string, unknown>;
}

/**
 * A loopback stand-in for the Elastic APM server: accepts the agent's intake v2
 * requests (POST /intake/v2/events, gzip-compressed ND-JSON) and decodes every
 * event; answers the server-information request the agent makes at start.
 */
export class ApmIntakeReceiver extends LoopbackReceiver {
  readonly events: IntakeEvent[] = [];

  protected handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
    if (req.method === 'GET' && (req.url === '/' || req.url === '')) {
      res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ version: '8.19.0', build_date: '2025-01-01T00:00:00Z', build_sha: 'test' }));
      return;
    }
    if (req.method === 'POST' && req.url?.startsWith('/intake/v2/events')) {
      for (const line of body.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        const obj = JSON.parse(line) as Record<string, Record<string, unknown>>;
        const [type] = Object.keys(obj);
        if (type) this.events.push({ type, body: obj[type] ?? {} });
      }
      res.writeHead(202).end();
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{}');
  }

  of(type: string): Record<string, unknown>[] {
    return this.events.filter((e) => e.type === type).map((e) => e.body);
  }
}
