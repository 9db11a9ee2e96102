import { LRUCache } from 'lru-cache';
import type { Cache } from './cache';

/** In-process cache for embedded defaults; bounded in entries so no client can grow it. */
export class MemoryCache implements Cache {
  readonly kind = 'memory';
  private readonly lru: LRUCache<string, string>;

  constructor(maxEntries: number) {
    this.lru = new LRUCache<string, string>({ max: maxEntries });
  }

  async get(key: string): Promise<string | undefined> {
    return this.lru.get(key);
  }

  async getMany(keys: string[]): Promise<(string | undefined)[]> {
    return keys.map((k) => this.lru.get(k));
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.lru.set(key, value, { ttl: ttlSeconds * 1000 });
  }

  async incr(key: string): Promise<number> {
    const next = Number(this.lru.get(key) ?? '0') + 1;
    this.lru.set(key, String(next));
    return next;
  }

  async del(keys: string[]): Promise<void> {
    for (const k of keys) this.lru.delete(k);
  }

  async ready(): Promise<boolean> {
    return true;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  connected(): undefined {
    return undefined;
  }

  async close(): Promise<void> {
    this.lru.clear();
  }
}
