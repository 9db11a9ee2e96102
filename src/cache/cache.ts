/**
 * The cache the service reads through. Redis in a real deployment, an in-process
 * LRU on embedded defaults. It is only ever a cache: every caller has Postgres to
 * fall back on, so implementations may throw and callers must treat that as a miss.
 */
export interface Cache {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | undefined>;
  /** Several keys in one round trip (Redis MGET), in the order asked. */
  getMany(keys: string[]): Promise<(string | undefined)[]>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Atomically increments a counter key and returns the new value. */
  incr(key: string): Promise<number>;
  del(keys: string[]): Promise<void>;
  /** Resolves true once connected, false if that took longer than timeoutMs (the cache stays optional). */
  ready(timeoutMs: number): Promise<boolean>;
  /** For readiness: true when the backend answers. */
  ping(): Promise<boolean>;
  /** 1/0 for the connection-state gauge; undefined where there is no connection. */
  connected(): boolean | undefined;
  close(): Promise<void>;
}
