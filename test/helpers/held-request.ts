import http from 'node:http';
import { sampleFrom } from './metrics-text';

export interface HeldRequest {
  /** Sends the rest of the body. */
  finish(): void;
  answered: Promise<{ status: number; body: string }>;
}

/**
 * A POST /api/orders whose body stops after its first bytes until finish(): a request
 * genuinely in flight for as long as a test needs, e.g. across a SIGTERM.
 */
export function holdOrderUpload(baseUrl: string, order: object): HeldRequest {
  const body = JSON.stringify(order);
  let req: http.ClientRequest | undefined;
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req = http.request(
      `${baseUrl}/api/orders`,
      { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        let data = '';
        res.on('data', (chunk: Buffer) => (data += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('error', reject);
    req.write(body.slice(0, 10));
  });
  return { answered, finish: () => req?.end(body.slice(10)) };
}

/** The service's http_requests_in_flight gauge: a held request counts once its headers are in. */
export async function requestsInFlight(baseUrl: string): Promise<number> {
  return sampleFrom(await (await fetch(`${baseUrl}/metrics`)).text(), 'http_requests_in_flight') ?? 0;
}
