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
}

/** The slot of a plain key: what it holds, replaced with a TTL on a miss. */
export async function keySlot(cache: Cache, key: string, ttlSeconds: number): Promise<CacheSlot> {
  return { cached: await cache.get(key), store: (text) => cache.set(key, text, ttlSeconds) };
}

/**
 * Cache-aside: answer from the cache, else load and store. A cache failure is
 * counted and then ignored: the loader (Postgres) is the source of truth.
 */
export async function readThrough<T>(
  lookup: () => Promise<CacheSlot>,
  opts: ReadThroughOptions<T>,
): Promise<{ value: T; hit: boolean }> {
  let slot: CacheSlot | undefined;
  try {
    slot = await lookup();
    if (slot.cached !== undefined) {
      opts.onResult?.('hit');
      return { value: JSON.parse(slot.cached) as T, hit: true };
    }
    opts.onResult?.('miss');
  } catch {
    opts.onResult?.('error');
  }
  const value = await opts.load();
  // Not awaited by the response: a slow Redis must not slow a miss further.
  slot?.store(JSON.stringify(value)).catch(() => undefined);
  return { value, hit: false };
}
