import { activeFaults, NO_FAULTS, type ChaosFaults, type FaultName } from './faults';

export interface ChaosSnapshot {
  faults: ChaosFaults;
  active: FaultName[];
  changedAt: string | null;
  expiresAt: string | null;
}

/** Does a request (its path and route template) fall under the configured `routes`? */
export type RouteScope = (path: string, template: string) => boolean;

/**
 * An entry covers a path or template equal to it or below it, so `/api/products`
 * covers `/api/products/42`, and `/api/orders/:id` covers `/api/orders/:id/cancel`.
 */
export function compileScope(routes: readonly string[]): RouteScope {
  if (routes.length === 0) return () => true;
  const under = (value: string, entry: string) => value === entry || value.startsWith(`${entry}/`);
  return (path, template) => routes.some((r) => under(template, r) || under(path, r));
}

/**
 * The active faults. Request middleware, the database hook and the cache decorator
 * read the flags below on every call, so they are precomputed on change rather than
 * derived per request.
 */
export class ChaosState {
  private current: ChaosFaults = NO_FAULTS;
  private changedAt: Date | undefined;
  private expiresAt: Date | undefined;
  private expiry: NodeJS.Timeout | undefined;
  private readonly listeners: ((snapshot: ChaosSnapshot, reason: 'set' | 'cleared' | 'expired') => void)[] = [];

  /** Error or latency injection is on: the one check an unaffected request pays. */
  requestFaults = false;
  /** A database fault is on. */
  dbFaults = false;
  scope: RouteScope = compileScope([]);

  get faults(): ChaosFaults {
    return this.current;
  }

  get cacheDown(): boolean {
    return this.current.cacheDown;
  }

  snapshot(): ChaosSnapshot {
    const active = activeFaults(this.current);
    return {
      faults: this.current,
      active: (Object.keys(active) as FaultName[]).filter((k) => active[k]),
      changedAt: this.changedAt?.toISOString() ?? null,
      expiresAt: this.expiresAt?.toISOString() ?? null,
    };
  }

  onChange(listener: (snapshot: ChaosSnapshot, reason: 'set' | 'cleared' | 'expired') => void): void {
    this.listeners.push(listener);
  }

  set(faults: ChaosFaults): ChaosSnapshot {
    return this.apply(faults, 'set');
  }

  clear(): ChaosSnapshot {
    return this.apply(NO_FAULTS, 'cleared');
  }

  private apply(faults: ChaosFaults, reason: 'set' | 'cleared' | 'expired'): ChaosSnapshot {
    clearTimeout(this.expiry);
    this.expiry = undefined;
    this.expiresAt = undefined;
    this.current = faults;
    this.changedAt = new Date();
    this.requestFaults = faults.errorRate > 0 || faults.latencyMs > 0;
    this.dbFaults = faults.dbErrorRate > 0 || faults.dbSlowMs > 0;
    this.scope = compileScope(faults.routes);
    if (faults.ttlSeconds !== undefined) {
      this.expiresAt = new Date(this.changedAt.getTime() + faults.ttlSeconds * 1000);
      // unref: a pending expiry must not keep a shutting-down process alive.
      this.expiry = setTimeout(() => this.apply(NO_FAULTS, 'expired'), faults.ttlSeconds * 1000).unref();
    }
    const snapshot = this.snapshot();
    for (const listener of this.listeners) listener(snapshot, reason);
    return snapshot;
  }
}
