import type { Request } from 'autocannon';
import type { ChaosFaultsInput } from '../src/chaos/faults';

/** What the catalog looks like, read from the service once before the load starts. */
export interface Catalog {
  ids: number[];
  categories: string[];
  words: string[];
}

export const SCENARIO_NAMES = ['browse', 'checkout', 'spike', 'errors', 'slow'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface Scenario {
  name: ScenarioName;
  description: string;
  connections: number;
  /**
   * Default requests/s over all connections (undefined: as fast as answered). Steady
   * scenarios are paced like real traffic: an alert depends on ratios and latency,
   * not volume, and a laptop's Jaeger and Loki should survive the lab.
   */
  rate?: number;
  /** Default when --duration is not given. */
  durationSeconds: number;
  /** Non-2xx statuses that are a normal answer here, reported apart from errors. */
  expected: Record<number, string>;
  /** Switched on before the load and off after it (even on Ctrl-C). */
  fault?: ChaosFaultsInput;
  requests(catalog: Catalog): Request[];
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;

/** Picks a value by weight: [[value, weight], ...]. */
function weighted<T>(choices: readonly (readonly [T, number])[]): T {
  const total = choices.reduce((s, [, w]) => s + w, 0);
  let r = Math.random() * total;
  for (const [value, w] of choices) {
    r -= w;
    if (r < 0) return value;
  }
  return (choices.at(-1) as readonly [T, number])[0];
}

/** A shopper's read: mostly listing and looking at products, some searching and filtering. */
function browsePath(c: Catalog): string {
  return weighted<() => string>([
    [() => '/api/products', 20],
    [() => `/api/products?limit=${pick([10, 20, 50])}&offset=${pick([0, 0, 10, 20, 40])}`, 15],
    [() => `/api/products?q=${encodeURIComponent(pick(c.words))}`, 20],
    [() => `/api/products?category=${encodeURIComponent(pick(c.categories))}`, 20],
    [() => `/api/products/${pick(c.ids)}`, 25],
  ])();
}

/** 1–4 distinct products; most lines are a single unit, a few are 2–5. */
function orderBody(c: Catalog): string {
  const count = Math.min(
    weighted([
      [1, 50],
      [2, 30],
      [3, 15],
      [4, 5],
    ] as const),
    c.ids.length,
  );
  const ids = new Set<number>();
  while (ids.size < count) ids.add(pick(c.ids));
  const items = [...ids].map((productId) => ({
    productId,
    quantity: weighted([
      [1, 70],
      [2, 20],
      [3, 7],
      [5, 3],
    ] as const),
  }));
  return JSON.stringify({ items, customerEmail: `shopper${Math.floor(Math.random() * 500) + 1}@example.com` });
}

// autocannon calls setupRequest before every request, so each one is drawn afresh.
const browseRequests = (c: Catalog): Request[] => [{ method: 'GET', setupRequest: (req) => ({ ...req, path: browsePath(c) }) }];

export const scenarios: Record<ScenarioName, Scenario> = {
  browse: {
    name: 'browse',
    description: 'shoppers reading the catalog: product list, search, category filter, product detail',
    connections: 10,
    rate: 50,
    durationSeconds: 30,
    expected: {},
    requests: browseRequests,
  },
  checkout: {
    name: 'checkout',
    description: 'orders of 1-4 products; 409 (out of stock) is a normal answer once stock runs low',
    connections: 5,
    rate: 10,
    durationSeconds: 30,
    expected: { 409: 'out of stock (INSUFFICIENT_STOCK)' },
    requests: (c) => [
      {
        method: 'POST',
        path: '/api/orders',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: orderBody(c) }),
      },
    ],
  },
  spike: {
    name: 'spike',
    description: 'a short burst of browsing, unpaced, at ten times the normal concurrency',
    connections: 100,
    durationSeconds: 10,
    expected: {},
    requests: browseRequests,
  },
  errors: {
    name: 'errors',
    description: 'browse while half the requests are answered 500 (trips HTTPErrorRate after ~2.5 min)',
    connections: 10,
    rate: 50,
    durationSeconds: 240,
    expected: {},
    fault: { errorRate: 0.5 },
    requests: browseRequests,
  },
  slow: {
    name: 'slow',
    description: 'browse while every request is delayed 800 ms (trips HighRequestLatency after ~1.5 min)',
    connections: 10,
    durationSeconds: 150,
    expected: {},
    fault: { latencyMs: 800 },
    requests: browseRequests,
  },
};

export function isScenarioName(s: string): s is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(s);
}
