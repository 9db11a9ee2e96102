import type { Cache } from './cache';

export type CacheResult = 'hit' | 'miss' | 'error';

export interface ReadThroughOptions<T> {
  cache: Cache;
  ttlSeconds: number;
  load: () => Promise<T>;
  onResult?: (result: CacheResult) => void;
}

/**
 * Cache-aside: answer from the cache, else load and store. A cache failure is
 * counted and then ignored: the loader (Postgres) is the source of truth.
 */
export async function readThrough<T>(
  key: () => Promise<string>,
  opts: ReadThroughOptions<T>,
): Promise<{ value: T; hit: boolean }> {
  let cacheKey: string | undefined;
  try {
    cacheKey = await key();
    const cached = await opts.cache.get(cacheKey);
    if (cached !== undefined) {
      opts.onResult?.('hit');
      return { value: JSON.parse(cached) as T, hit: true };
    }
    opts.onResult?.('miss');
  } catch {
    opts.onResult?.('error');
  }
  const value = await opts.load();
  if (cacheKey !== undefined) {
    // Not awaited by the response: a slow Redis must not slow a miss further.
    opts.cache.set(cacheKey, JSON.stringify(value), opts.ttlSeconds).catch(() => undefined);
  }
  return { value, hit: false };
}
