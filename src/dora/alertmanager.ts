import { z } from 'zod';
import { isoTime } from './schemas';

/**
 * The Alertmanager webhook payload (version 4, as documented in Alertmanager's
 * configuration reference) and what it means for incidents. Unknown fields are
 * dropped rather than refused, so a newer Alertmanager adding one still works.
 */

const labelSet = z.record(z.string(), z.string());

const alert = z
  .object({
    status: z.enum(['firing', 'resolved']),
    labels: z.object({ alertname: z.string().min(1).max(200) }).catchall(z.string()),
    annotations: labelSet.optional(),
    startsAt: isoTime,
    endsAt: isoTime,
    generatorURL: z.string().optional(),
    fingerprint: z.string().min(1).max(128),
  })
  .superRefine((a, ctx) => {
    if (a.status === 'resolved' && a.endsAt.getTime() < a.startsAt.getTime()) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'a resolved alert cannot end before it starts' });
    }
  });

export const alertmanagerPayload = z.object({
  version: z.literal('4', { error: 'only webhook payload version "4" is understood' }),
  groupKey: z.string().optional(),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labelSet.optional(),
  commonLabels: labelSet.optional(),
  commonAnnotations: labelSet.optional(),
  externalURL: z.string().optional(),
  alerts: z.array(alert),
});

export type AlertmanagerPayload = z.output<typeof alertmanagerPayload>;

export interface IncidentEvent {
  fingerprint: string;
  alertname: string;
  severity: string;
  service: string | null;
  openedAt: Date;
  /** Set for a resolved notification: the alert's endsAt. */
  resolvedAt: Date | null;
}

/**
 * Alerts whose severity is an incident severity become incident events; the rest
 * (warnings, by default) are not outages and are only counted as ignored.
 */
export function incidentEvents(payload: AlertmanagerPayload, severities: readonly string[]): { events: IncidentEvent[]; ignored: number } {
  const events: IncidentEvent[] = [];
  let ignored = 0;
  for (const a of payload.alerts) {
    const severity = a.labels.severity;
    if (severity === undefined || !severities.includes(severity)) {
      ignored++;
      continue;
    }
    events.push({
      fingerprint: a.fingerprint,
      alertname: a.labels.alertname,
      severity,
      service: a.labels.service ?? null,
      openedAt: a.startsAt,
      resolvedAt: a.status === 'resolved' ? a.endsAt : null,
    });
  }
  return { events, ignored };
}
