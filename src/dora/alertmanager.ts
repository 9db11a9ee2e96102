import type { AlertmanagerPayload } from '../alerting/alertmanager-payload';

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
