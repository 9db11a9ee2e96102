import { Router } from 'express';
import { z } from 'zod';
import { webhookGuard } from '../http/middleware/bearer-token';
import { BODY_LIMIT, jsonBody } from '../http/json-body';
import { parseInput } from '../http/validate';
import type { Logger } from '../telemetry/logger';
import { alertmanagerPayload } from './alertmanager-payload';
import type { AlertingMetrics } from './metrics';

/** The receivers docker/alertmanager/alertmanager.yml routes to, by severity. */
export const NOTIFICATION_RECEIVERS = ['critical', 'warning', 'default'] as const;

const receiverParam = z.enum(NOTIFICATION_RECEIVERS, { error: `must be one of ${NOTIFICATION_RECEIVERS.join(', ')}` });

/**
 * Alertmanager's severity receivers, as a log: every notification becomes one JSON
 * line per alert, so in the lab a fired alert shows up in Loki next to the requests
 * that caused it. Slack or e-mail would replace this in a real deployment.
 */
export function notificationLogRoutes(logger: Logger, metrics: AlertingMetrics, webhookToken?: string): Router {
  const log = logger.child({ component: 'alertmanager' });
  const router = Router();
  router.post('/api/alerts/:receiver', ...webhookGuard(webhookToken), ...jsonBody(BODY_LIMIT), (req, res) => {
    const receiver = parseInput(receiverParam, req.params.receiver, 'params');
    const payload = parseInput(alertmanagerPayload, req.body, 'body');
    for (const a of payload.alerts) {
      metrics.notified(receiver, a.status);
      log[a.status === 'firing' ? 'warn' : 'info'](
        {
          receiver,
          alert_status: a.status,
          alertname: a.labels.alertname,
          severity: a.labels.severity,
          alert_service: a.labels.service,
          fingerprint: a.fingerprint,
          starts_at: a.startsAt.toISOString(),
          summary: a.annotations?.summary,
        },
        `alert ${a.status}: ${a.labels.alertname}`,
      );
    }
    res.json({ logged: payload.alerts.length });
  });
  return router;
}
