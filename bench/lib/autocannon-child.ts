/**
 * The autocannon load generator, run as a child process of the bench (so its event
 * loop never shares a thread with the bench's receivers). Prints one JSON LoadResult.
 */
import autocannon from 'autocannon';
import type { LoadResult } from './load';

const env = process.env;
const orders = env.BENCH_ORDERS === '1';
const products = Number(env.BENCH_PRODUCTS ?? '20');
let next = 0;

const instance = autocannon(
  {
    url: env.BENCH_URL ?? 'http://127.0.0.1:3000/api/products',
    connections: Number(env.BENCH_CONNECTIONS ?? '10'),
    duration: Number(env.BENCH_DURATION_S ?? '5'),
    timeout: 5,
    ...(orders
      ? {
          method: 'POST' as const,
          headers: { 'content-type': 'application/json' },
          requests: [
            {
              setupRequest: (req: autocannon.Request) => {
                next = (next % products) + 1;
                return { ...req, body: JSON.stringify({ items: [{ productId: next, quantity: 1 }], customerEmail: `bench-${next}@example.com` }) };
              },
            },
          ],
        }
      : {}),
  },
  (err, r) => {
    if (err) {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    }
    const result: LoadResult = {
      requests: r.requests.total,
      durationMs: r.duration * 1000,
      rps: r.requests.total / r.duration,
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      maxMs: r.latency.max,
      errors: r.non2xx + r.errors + r.timeouts,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  },
);
process.once('SIGTERM', () => instance.stop());
