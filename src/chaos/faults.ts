import { z } from 'zod';

/** The fault names: label values of the cloudmart_chaos_* metrics and of the span attribute. */
export const FAULT_NAMES = ['error', 'latency', 'event_loop_block', 'db_slow', 'db_error', 'cache_down'] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

/** Span attribute on requests a fault was injected into; its value names the fault(s). */
export const CHAOS_SPAN_ATTRIBUTE = 'cloudmart.chaos.injected';

export const MAX_DELAY_MS = 10_000;
/**
 * A block holds the whole process, the chaos endpoint, /metrics and the fault's own ttl
 * timer included, so one is kept well below a scrape timeout.
 */
export const MAX_BLOCK_MS = 1000;
export const MAX_TTL_SECONDS = 3600;

/**
 * With Redis, the longest a change made through one replica takes to reach the others
 * while Redis is up: pub/sub brings it within milliseconds, and every replica also
 * re-reads the shared faults this often, in case a message was lost.
 */
export const REPLICA_SYNC_MS = 2000;

/**
 * Paths request faults never touch, even when listed: the chaos endpoint itself (a
 * fault there could lock the operator out of clearing it) and the webhooks Alertmanager
 * delivers to (the alert a fault trips must still arrive and be recorded).
 */
export const PROTECTED_PREFIXES = ['/api/admin', '/api/alerts', '/api/dora'] as const;

export function isProtectedPath(path: string): boolean {
  return PROTECTED_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
}

const rate = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');
const delayMs = z.number().int().min(0).max(MAX_DELAY_MS, `must be at most ${MAX_DELAY_MS} ms`);

const routeEntry = z
  .string()
  .max(200)
  .regex(/^\/api(\/[A-Za-z0-9._~:-]+)*\/?$/, 'must be a route template or path prefix under /api, e.g. /api/products or /api/orders/:id')
  .transform((r) => (r.length > 1 && r.endsWith('/') ? r.slice(0, -1) : r))
  .refine((r) => !isProtectedPath(r), `${PROTECTED_PREFIXES.join(', ')} are never affected`);

/** The body of PUT /api/admin/chaos. A PUT replaces every fault: what it omits is off. */
export const chaosFaultsSchema = z.strictObject({
  /** Share of matching requests answered 500 CHAOS_INJECTED. */
  errorRate: rate.default(0),
  /** Added before matching requests are handled. */
  latencyMs: delayMs.default(0),
  /**
   * Busy-waits this long on the event loop in matching requests, like CPU-bound code in a
   * handler: every other request and timer of the process waits too (HighEventLoopLag).
   */
  eventLoopBlockMs: z.number().int().min(0).max(MAX_BLOCK_MS, `must be at most ${MAX_BLOCK_MS} ms`).default(0),
  /** Where error, latency and event-loop blocking apply: route templates or path prefixes; empty = every API route. */
  routes: z.array(routeEntry).max(20).default([]),
  /** Added before every database query. */
  dbSlowMs: delayMs.default(0),
  /** Share of database queries that fail as if Postgres were unreachable (503). */
  dbErrorRate: rate.default(0),
  /** Every cache operation fails, as if Redis were down; reads fall back to Postgres. */
  cacheDown: z.boolean().default(false),
  /** Clears itself after this long, so a killed load generator cannot leave a fault on. */
  ttlSeconds: z.number().int().min(1).max(MAX_TTL_SECONDS).optional(),
});

export type ChaosFaults = z.output<typeof chaosFaultsSchema>;
export type ChaosFaultsInput = z.input<typeof chaosFaultsSchema>;

export const NO_FAULTS: ChaosFaults = Object.freeze({
  errorRate: 0,
  latencyMs: 0,
  eventLoopBlockMs: 0,
  routes: [],
  dbSlowMs: 0,
  dbErrorRate: 0,
  cacheDown: false,
});

export function activeFaults(f: ChaosFaults): Record<FaultName, boolean> {
  return {
    error: f.errorRate > 0,
    latency: f.latencyMs > 0,
    event_loop_block: f.eventLoopBlockMs > 0,
    db_slow: f.dbSlowMs > 0,
    db_error: f.dbErrorRate > 0,
    cache_down: f.cacheDown,
  };
}
