import type { Cache } from './cache';

export type CacheResult = 'hit' | 'miss' | 'error';

/** What the cache holds for one read, and how to store a freshly loaded value in its place. */
export interface CacheSlot {
  cached: string | undefined;
  store(text: string): Promise<void>;
}

export interface ReadThroughOptions<T> {
  load: () => Promise<T>;
  onResult?: (result: CacheResult) => void;
  /**
   * Performance (docs/benchmark.md, "Cached pages as stored"): keep the JSON text and
   * skip parsing a hit, so the response can be the stored bytes. Off: parse every hit.
   */
  keepText?: boolean;
}

/**
 * One read's answer: the value, and with keepText its JSON text (a hit then has only
 * the text; a miss has both, the text being what was stored).
 */
export type CachedRead<T> = { hit: boolean; value: T; text?: string } | { hit: true; value?: undefined; text: string };

/** The slot of a plain key: what it holds, replaced with a TTL on a miss. */
export async function keySlot(cache: Cache, key: string, ttlSeconds: number): Promise<CacheSlot> {
  return { cached: await cache.get(key), store: (text) => cache.set(key, text, ttlSeconds) };
}

/**
 * Cache-aside: answer from the cache, else load and store. A cache failure is
 * counted and then ignored: the loader (Postgres) is the source of truth.
 */
export async function readThrough<T>(lookup: () => Promise<CacheSlot>, opts: ReadThroughOptions<T>): Promise<CachedRead<T>> {
  let slot: CacheSlot | undefined;
  try {
    slot = await lookup();
    if (slot.cached !== undefined) {
      const read: CachedRead<T> = opts.keepText ? { hit: true, text: slot.cached } : { hit: true, value: JSON.parse(slot.cached) as T };
      opts.onResult?.('hit');
      return read;
    }
    opts.onResult?.('miss');
  } catch {
    opts.onResult?.('error');
  }
  const value = await opts.load();
  const text = JSON.stringify(value);
  // Not awaited by the response: a slow Redis must not slow a miss further.
  slot?.store(text).catch(() => undefined);
  return opts.keepText ? { hit: false, value, text } : { hit: false, value };
}
