import { Counter, Gauge } from 'prom-client';
import type { MetricsRegistry } from '../telemetry/metrics';
import { FAULT_NAMES, type FaultName } from './faults';
import type { ChaosSnapshot } from './state';

export interface ChaosMetrics {
  injected(fault: FaultName): void;
  show(snapshot: ChaosSnapshot): void;
}

/** Names are contracts: the RED dashboard's "Active chaos faults" panel queries them. */
export function createChaosMetrics(registry: MetricsRegistry): ChaosMetrics {
  const registers = [registry];
  const active = new Gauge({
    name: 'cloudmart_chaos_fault_active',
    help: 'Fault injection: 1 while the fault is switched on, 0 otherwise',
    labelNames: ['fault'],
    registers,
  });
  const injected = new Counter({
    name: 'cloudmart_chaos_injected_total',
    help: 'Fault injection: requests, queries or cache operations a fault was injected into',
    labelNames: ['fault'],
    registers,
  });
  // Every series exists from the start, so rate() sees the first injection and the
  // dashboard shows a 0 instead of "no data".
  for (const fault of FAULT_NAMES) {
    active.set({ fault }, 0);
    injected.inc({ fault }, 0);
  }
  return {
    injected(fault) {
      injected.inc({ fault });
    },
    show(snapshot) {
      for (const fault of FAULT_NAMES) active.set({ fault }, snapshot.active.includes(fault) ? 1 : 0);
    },
  };
}
