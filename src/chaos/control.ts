import type { ChaosFaults } from './faults';
import type { ChaosSnapshot, ChaosState } from './state';

/**
 * What the admin API drives: the faults of this process alone, or (with Redis) the
 * faults every replica shares. Either way the request path reads only the local
 * ChaosState, so no request waits on Redis.
 */
export interface ChaosControl {
  snapshot(): ChaosSnapshot;
  set(faults: ChaosFaults): Promise<ChaosSnapshot>;
  clear(): Promise<ChaosSnapshot>;
  /** True once the shared faults have been read (at once when there are none to read), false after timeoutMs. */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** The embedded default's faults: one process, nothing to share. */
export function localControl(state: ChaosState): ChaosControl {
  return {
    snapshot: () => state.snapshot(),
    set: async (faults) => state.set(faults),
    clear: async () => state.clear(),
    ready: async () => true,
    close: async () => undefined,
  };
}
