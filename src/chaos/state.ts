import { activeFaults, NO_FAULTS, type ChaosFaults, type FaultName } from './faults';

export interface ChaosSnapshot {
  faults: ChaosFaults;
  active: FaultName[];
  changedAt: string | null;
  expiresAt: string | null;
}

export type ChangeReason = 'set' | 'cleared' | 'expired';

/**
 * One change of the faults with its own times, so a replica that adopts it from another
 * shows the same changedAt and expires it at the same moment as the replica that made it.
 */
export interface ChaosChange {
  faults: ChaosFaults;
  reason: ChangeReason;
  changedAt: Date;
  expiresAt?: Date;
}

/** The change a PUT (set) or DELETE (cleared) makes now. */
export function newChange(faults: ChaosFaults, reason: 'set' | 'cleared', now = new Date()): ChaosChange {
  const expiresAt = faults.ttlSeconds === undefined ? undefined : new Date(now.getTime() + faults.ttlSeconds * 1000);
  return { faults, reason, changedAt: now, ...(expiresAt ? { expiresAt } : {}) };
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
 * The active faults of this process. Request middleware, the database hook and the
 * cache decorator read the flags below on every call, so they are precomputed on change
 * rather than derived per request.
 */
export class ChaosState {
  private current: ChaosChange | undefined;
  private expiry: NodeJS.Timeout | undefined;
  private readonly listeners: ((snapshot: ChaosSnapshot, reason: ChangeReason) => void)[] = [];

  /** Error, latency or event-loop injection is on: the one check an unaffected request pays. */
  requestFaults = false;
  /** A database fault is on. */
  dbFaults = false;
  scope: RouteScope = compileScope([]);

  get faults(): ChaosFaults {
    return this.current?.faults ?? NO_FAULTS;
  }

  get cacheDown(): boolean {
    return this.faults.cacheDown;
  }

  /** The last change applied; undefined before the first. */
  get change(): ChaosChange | undefined {
    return this.current;
  }

  snapshot(): ChaosSnapshot {
    const active = activeFaults(this.faults);
    return {
      faults: this.faults,
      active: (Object.keys(active) as FaultName[]).filter((k) => active[k]),
      changedAt: this.current?.changedAt.toISOString() ?? null,
      expiresAt: this.current?.expiresAt?.toISOString() ?? null,
    };
  }

  onChange(listener: (snapshot: ChaosSnapshot, reason: ChangeReason) => void): void {
    this.listeners.push(listener);
  }

  set(faults: ChaosFaults): ChaosSnapshot {
    return this.apply(newChange(faults, 'set'));
  }

  clear(): ChaosSnapshot {
    return this.apply(newChange(NO_FAULTS, 'cleared'));
  }

  /** Makes `change` the active faults: one made here, or one another replica made. */
  apply(change: ChaosChange): ChaosSnapshot {
    clearTimeout(this.expiry);
    this.expiry = undefined;
    const { faults, expiresAt } = change;
    this.current = change;
    this.requestFaults = faults.errorRate > 0 || faults.latencyMs > 0 || faults.eventLoopBlockMs > 0;
    this.dbFaults = faults.dbErrorRate > 0 || faults.dbSlowMs > 0;
    this.scope = compileScope(faults.routes);
    if (expiresAt !== undefined) {
      const expire = () => this.apply({ faults: NO_FAULTS, reason: 'expired', changedAt: new Date() });
      // unref: a pending expiry must not keep a shutting-down process alive.
      this.expiry = setTimeout(expire, Math.max(0, expiresAt.getTime() - Date.now())).unref();
    }
    const snapshot = this.snapshot();
    for (const listener of this.listeners) listener(snapshot, change.reason);
    return snapshot;
  }
}
