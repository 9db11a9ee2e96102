import { z } from 'zod';
import { isoTime } from '../http/iso-time';

/**
 * The Alertmanager webhook payload (version 4, as documented in Alertmanager's
 * configuration reference), which both of its receivers here parse: the notification
 * log and DORA's incidents. Unknown fields are dropped rather than refused, so a newer
 * Alertmanager adding one still works.
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
