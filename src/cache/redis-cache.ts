import { once } from 'node:events';
import { Redis } from 'ioredis';
import type { Cache } from './cache';

export interface RedisCacheOptions {
  url: string;
  commandTimeoutMs: number;
  /** Namespaces the keys, so services (or test runs) sharing one Redis never read each other's entries. */
  keyPrefix?: string;
  onStateChange?: (state: 'ready' | 'down', err?: Error) => void;
}

/**
 * Redis as a cache only. Commands fail fast instead of queueing while Redis is
 * away (no offline queue, one bounded timeout, no per-request retries), so a
 * request falls back to Postgres within the timeout; ioredis keeps reconnecting
 * in the background and the cache comes back by itself.
 */
export class RedisCache implements Cache {
  readonly kind = 'redis';
  readonly client: Redis;
  private isReady = false;

  constructor(opts: RedisCacheOptions) {
    this.client = new Redis(opts.url, {
      lazyConnect: false,
      keyPrefix: opts.keyPrefix,
      enableOfflineQueue: false,
      commandTimeout: opts.commandTimeoutMs,
      connectTimeout: Math.max(1000, opts.commandTimeoutMs * 5),
      maxRetriesPerRequest: 0,
      // Reconnect forever, backing off to once every 2 s.
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    });
    this.client.on('ready', () => {
      this.isReady = true;
      opts.onStateChange?.('ready');
    });
    this.client.on('error', (err: Error) => {
      if (this.isReady) {
        this.isReady = false;
        opts.onStateChange?.('down', err);
      }
    });
    this.client.on('end', () => {
      this.isReady = false;
    });
    this.client.on('close', () => {
      if (this.isReady) {
        this.isReady = false;
        opts.onStateChange?.('down');
      }
    });
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.client.get(key)) ?? undefined;
  }

  async getMany(keys: string[]): Promise<(string | undefined)[]> {
    return (await this.client.mget(keys)).map((v) => v ?? undefined);
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.client.set(key, value, 'EX', ttlSeconds);
  }

  async incr(key: string): Promise<number> {
    return this.client.incr(key);
  }

  async del(keys: string[]): Promise<void> {
    if (keys.length) await this.client.del(...keys);
  }

  async ready(timeoutMs: number): Promise<boolean> {
    if (this.isReady) return true;
    try {
      await once(this.client, 'ready', { signal: AbortSignal.timeout(timeoutMs) });
      return true;
    } catch {
      return false;
    }
  }

  async ping(): Promise<boolean> {
    try {
      await this.client.ping();
      return true;
    } catch {
      return false;
    }
  }

  connected(): boolean {
    return this.isReady;
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
