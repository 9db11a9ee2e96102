import type { DoraModule, DoraModuleOptions } from '../../src/dora';
import { startTestApp, type TestApp, type TestAppOptions } from '../helpers/app';
import { sql } from '../../testkit/postgres';

/** The service on its own database, with the DORA module's clock and gauge caching from `opts`. */
export async function startDoraApp(opts: DoraModuleOptions & Pick<TestAppOptions, 'env' | 'database'> = {}): Promise<{ t: TestApp; dora: DoraModule }> {
  const { env, database, ...dora } = opts;
  const t = await startTestApp({ env, database, dora });
  return { t, dora: t.dora };
}

export function dbUrl(t: TestApp): string {
  if (!t.database) throw new Error('this test needs a test database of its own');
  return t.database.url;
}

export interface TableCounts {
  deployments: number;
  incidents: number;
  commits: number;
}

export async function counts(t: TestApp): Promise<TableCounts> {
  const rows = await sql<{ deployments: number; incidents: number; commits: number }>(
    dbUrl(t),
    `SELECT (SELECT count(*)::int FROM dora_deployments) AS deployments,
            (SELECT count(*)::int FROM dora_incidents) AS incidents,
            (SELECT count(*)::int FROM dora_commits) AS commits`,
  );
  const r = rows[0];
  if (!r) throw new Error('no counts');
  return r;
}

export interface AlertFixture {
  status?: 'firing' | 'resolved';
  alertname?: string;
  severity?: string;
  service?: string;
  fingerprint?: string;
  startsAt: string;
  endsAt?: string;
}

/** A webhook body as Alertmanager 0.2x sends it (version 4), for the given alerts. */
export function alertmanagerBody(alerts: AlertFixture[]): Record<string, unknown> {
  const status = alerts.some((a) => (a.status ?? 'firing') === 'firing') ? 'firing' : 'resolved';
  return {
    receiver: 'dora',
    status,
    alerts: alerts.map((a) => ({
      status: a.status ?? 'firing',
      labels: {
        alertname: a.alertname ?? 'HTTPErrorRate',
        severity: a.severity ?? 'critical',
        service: a.service ?? 'cloudmart',
        instance: 'backend:3000',
        job: 'backend',
      },
      annotations: { summary: 'More than 10% of requests fail', runbook_url: 'https://example.invalid/runbook' },
      startsAt: a.startsAt,
      endsAt: a.endsAt ?? '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph?g0.expr=x',
      fingerprint: a.fingerprint ?? '4f5c2b8e1d3a7c90',
    })),
    groupLabels: { alertname: 'HTTPErrorRate', service: 'cloudmart' },
    commonLabels: { alertname: 'HTTPErrorRate' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: '{}/{}:{alertname="HTTPErrorRate", service="cloudmart"}',
    truncatedAlerts: 0,
  };
}
