import type { Queryable } from '../store/database';
import type { IncidentEvent } from './alertmanager';
import type { DeploymentFact, IncidentFact } from './ratings';

/** All SQL of the DORA module. Timestamps go in and come out as Dates (timestamptz: UTC instants). */

export type DeploymentSource = 'self' | 'api' | 'github';

export interface NewDeployment {
  service: string;
  version: string;
  commitSha: string | null;
  commitTime: Date | null;
  deployedAt: Date;
  source: DeploymentSource;
}

export interface Deployment {
  id: number;
  service: string;
  version: string;
  commitSha: string | null;
  commitTime: string | null;
  deployedAt: string;
  status: string;
  source: DeploymentSource;
}

interface DeploymentRow {
  id: string;
  service: string;
  version: string;
  commit_sha: string | null;
  commit_time: Date | null;
  deployed_at: Date;
  status: string;
  source: DeploymentSource;
}

function toDeployment(r: DeploymentRow): Deployment {
  return {
    id: Number(r.id),
    service: r.service,
    version: r.version,
    commitSha: r.commit_sha,
    commitTime: r.commit_time ? r.commit_time.toISOString() : null,
    deployedAt: r.deployed_at.toISOString(),
    status: r.status,
    source: r.source,
  };
}

const deploymentColumns = 'id, service, version, commit_sha, commit_time, deployed_at, status, source';

// The deployment an incident is blamed on: the latest one before it opened, of the
// alert's own service when that service has deployments, of any service otherwise
// (the stack's alerts say service="cloudmart" while the backend deploys as
// cloudmart-backend; both name the one system being measured).
const blamedDeployment = `(
  SELECT id FROM dora_deployments
   WHERE status = 'success' AND deployed_at <= $5
   ORDER BY (service = $4::text) IS TRUE DESC, deployed_at DESC, id DESC
   LIMIT 1)`;

export class DoraRepository {
  constructor(private readonly db: Queryable) {}

  /** Records a deployment once per (service, version); `created` says whether this call did. */
  async recordDeployment(d: NewDeployment, tx: Queryable = this.db): Promise<{ deployment: Deployment; created: boolean }> {
    const inserted = await tx.query<DeploymentRow>(
      `INSERT INTO dora_deployments (service, version, commit_sha, commit_time, deployed_at, source)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (service, version) DO NOTHING
       RETURNING ${deploymentColumns}`,
      [d.service, d.version, d.commitSha, d.commitTime, d.deployedAt, d.source],
    );
    if (inserted[0]) return { deployment: toDeployment(inserted[0]), created: true };
    // A concurrent insert of the same version has committed by now (ON CONFLICT waited for it).
    const existing = await tx.query<DeploymentRow>(`SELECT ${deploymentColumns} FROM dora_deployments WHERE service = $1 AND version = $2`, [
      d.service,
      d.version,
    ]);
    if (!existing[0]) throw new Error(`deployment ${d.service}@${d.version} vanished after a conflicting insert`);
    return { deployment: toDeployment(existing[0]), created: false };
  }

  /**
   * Applies one alert notification. A firing alert opens its incident once; a resolved
   * one closes it once (and records the whole incident if its firing was never seen).
   * Returns what changed, so a redelivery reports 'unchanged'.
   */
  async applyIncident(e: IncidentEvent, tx: Queryable): Promise<'opened' | 'resolved' | 'unchanged'> {
    const values = [e.fingerprint, e.alertname, e.severity, e.service, e.openedAt];
    if (e.resolvedAt === null) {
      const rows = await tx.query(
        `INSERT INTO dora_incidents (fingerprint, alertname, severity, service, opened_at, deployment_id)
         VALUES ($1, $2, $3, $4, $5, ${blamedDeployment})
         ON CONFLICT (fingerprint, opened_at) DO NOTHING
         RETURNING id`,
        values,
      );
      return rows.length ? 'opened' : 'unchanged';
    }
    const rows = await tx.query(
      `INSERT INTO dora_incidents (fingerprint, alertname, severity, service, opened_at, resolved_at, deployment_id)
       VALUES ($1, $2, $3, $4, $5, $6, ${blamedDeployment})
       ON CONFLICT (fingerprint, opened_at) DO UPDATE SET resolved_at = EXCLUDED.resolved_at
         WHERE dora_incidents.resolved_at IS NULL
       RETURNING id`,
      [...values, e.resolvedAt],
    );
    return rows.length ? 'resolved' : 'unchanged';
  }

  async recordCommits(repository: string, commits: { sha: string; committedAt: Date }[], tx: Queryable): Promise<number> {
    if (commits.length === 0) return 0;
    const rows = await tx.query(
      `INSERT INTO dora_commits (sha, repository, committed_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
       ON CONFLICT (sha) DO NOTHING
       RETURNING sha`,
      [commits.map((c) => c.sha), commits.map(() => repository), commits.map((c) => c.committedAt)],
    );
    return rows.length;
  }

  async commitTime(sha: string, tx: Queryable = this.db): Promise<Date | null> {
    const rows = await tx.query<{ committed_at: Date }>('SELECT committed_at FROM dora_commits WHERE sha = $1', [sha]);
    return rows[0]?.committed_at ?? null;
  }

  /** Successful deployments in (from, to], each marked failed when an incident is linked to it. */
  async deploymentFacts(from: Date, to: Date): Promise<DeploymentFact[]> {
    const rows = await this.db.query<{ deployed_at: Date; commit_time: Date | null; failed: boolean }>(
      `SELECT d.deployed_at, d.commit_time,
              EXISTS (SELECT 1 FROM dora_incidents i WHERE i.deployment_id = d.id) AS failed
         FROM dora_deployments d
        WHERE d.status = 'success' AND d.deployed_at > $1 AND d.deployed_at <= $2`,
      [from, to],
    );
    return rows.map((r) => ({ deployedAt: r.deployed_at, commitTime: r.commit_time, failed: r.failed }));
  }

  /** Incidents opened in (from, to]. */
  async incidentFacts(from: Date, to: Date): Promise<IncidentFact[]> {
    const rows = await this.db.query<{ opened_at: Date; resolved_at: Date | null }>(
      'SELECT opened_at, resolved_at FROM dora_incidents WHERE opened_at > $1 AND opened_at <= $2',
      [from, to],
    );
    return rows.map((r) => ({ openedAt: r.opened_at, resolvedAt: r.resolved_at }));
  }

  async firstDeployment(): Promise<Date | null> {
    const rows = await this.db.query<{ first: Date | null }>("SELECT min(deployed_at) AS first FROM dora_deployments WHERE status = 'success'");
    return rows[0]?.first ?? null;
  }
}
