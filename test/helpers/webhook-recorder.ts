import type http from 'node:http';
import { LoopbackReceiver } from '../../testkit/loopback-receiver';

export interface AlertmanagerWebhook {
  receiver: string;
  status: 'firing' | 'resolved';
  alerts: { status: 'firing' | 'resolved'; labels: Record<string, string>; fingerprint: string }[];
}

export interface Delivery {
  path: string;
  at: number;
  payload: AlertmanagerWebhook;
  /** The Authorization header Alertmanager sent. */
  authorization?: string;
  /** Status the service answered when the delivery was forwarded to it. */
  forwardedStatus?: number;
}

/**
 * Stands where the Compose stack's `backend:3000` is in alertmanager.yml: records
 * every webhook Alertmanager delivers and forwards it to the real service, so the
 * test sees both what Alertmanager sent and what the service made of it.
 */
export class WebhookRecorder extends LoopbackReceiver {
  readonly deliveries: Delivery[] = [];

  constructor(private readonly forwardTo: () => string | undefined) {
    super();
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const delivery: Delivery = {
      path: req.url ?? '',
      at: Date.now(),
      payload: JSON.parse(body.toString('utf8')) as AlertmanagerWebhook,
      authorization: req.headers.authorization,
    };
    const target = this.forwardTo();
    if (target) {
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (req.headers.authorization !== undefined) headers.Authorization = req.headers.authorization;
      const forwarded = await fetch(`${target}${req.url ?? ''}`, { method: 'POST', headers, body }).catch(() => undefined);
      delivery.forwardedStatus = forwarded?.status;
    }
    this.deliveries.push(delivery);
    res.writeHead(200).end();
  }

  /** Deliveries to a path that carry an alert with this name and status. */
  find(path: string, alertname: string, status: 'firing' | 'resolved'): Delivery[] {
    return this.deliveries.filter((d) => d.path === path && d.payload.alerts.some((a) => a.labels.alertname === alertname && a.status === status));
  }
}
