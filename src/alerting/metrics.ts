import { Counter } from 'prom-client';
import type { MetricsRegistry } from '../telemetry/metrics';

export interface AlertingMetrics {
  /** One alert of a notification Alertmanager sent to `receiver`. */
  notified(receiver: string, status: 'firing' | 'resolved'): void;
}

/** The name is a contract, listed in docs/telemetry.md for queries and the lab. */
export function createAlertingMetrics(registry: MetricsRegistry): AlertingMetrics {
  const notifications = new Counter({
    name: 'cloudmart_alert_notifications_total',
    help: 'Alert notifications received from Alertmanager, by receiver and status',
    labelNames: ['receiver', 'status'],
    registers: [registry],
  });
  return {
    notified(receiver, status) {
      notifications.inc({ receiver, status });
    },
  };
}
