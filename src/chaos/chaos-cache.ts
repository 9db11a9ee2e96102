import type { Cache } from '../cache/cache';
import { annotateSpan } from '../telemetry/tracer';
import { CHAOS_SPAN_ATTRIBUTE } from './faults';
import type { ChaosMetrics } from './metrics';
import type { ChaosState } from './state';

export class CacheDownError extends Error {
  override name = 'CacheDownError';
}

/**
 * The cache as the service would see a dead Redis: every operation throws, so
 * read-through counts an `error` and serves from Postgres. Readiness and the
 * connection gauge report it down too; the RedisDown alert does not fire, because
 * it reads redis-exporter, which still reaches the real Redis.
 */
export class ChaosCache implements Cache {
  readonly kind: Cache['kind'];

  constructor(
    private readonly inner: Cache,
    private readonly state: ChaosState,
    private readonly metrics: ChaosMetrics,
  ) {
    this.kind = inner.kind;
  }

  private failIfDown(): void {
    if (!this.state.cacheDown) return;
    this.metrics.injected('cache_down');
    annotateSpan({ [CHAOS_SPAN_ATTRIBUTE]: 'cache_down' });
    throw new CacheDownError('fault injected: cache down (cacheDown)');
  }

  async get(key: string): Promise<string | undefined> {
    this.failIfDown();
    return this.inner.get(key);
  }

  async getMany(keys: string[]): Promise<(string | undefined)[]> {
    this.failIfDown();
    return this.inner.getMany(keys);
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.failIfDown();
    return this.inner.set(key, value, ttlSeconds);
  }

  async incr(key: string): Promise<number> {
    this.failIfDown();
    return this.inner.incr(key);
  }

  async del(keys: string[]): Promise<void> {
    this.failIfDown();
    return this.inner.del(keys);
  }

  ready(timeoutMs: number): Promise<boolean> {
    return this.inner.ready(timeoutMs);
  }

  async ping(): Promise<boolean> {
    return this.state.cacheDown ? false : this.inner.ping();
  }

  connected(): boolean | undefined {
    const connected = this.inner.connected();
    return connected === undefined ? undefined : connected && !this.state.cacheDown;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
