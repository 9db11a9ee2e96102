import type { AlertmanagerPayload } from '../alerting/alertmanager-payload';
import type { Database } from '../store/database';
import { incidentEvents } from './alertmanager';
import { pushedCommits, type DeploymentStatusEvent, type PushEvent } from './github';
import { measurePeriod, previousWindow, windowEnding, type DeploymentFact, type IncidentFact, type PeriodMetrics } from './ratings';
import { buildReport, type DoraReport } from './report';
import { DoraRepository, type Deployment, type NewDeployment } from './repository';
import type { DeploymentRequest } from './schemas';

export interface AlertSummary {
  opened: number;
  resolved: number;
  /** Alerts below the incident severities, and notifications already applied. */
  ignored: number;
}

export interface DoraServiceOptions {
  incidentSeverities: readonly string[];
  now?: () => Date;
}

/** The DORA use cases: take events in (each payload in one transaction), give measurements out. */
export class DoraService {
  private readonly repo: DoraRepository;
  private readonly now: () => Date;

  constructor(
    private readonly db: Database,
    private readonly opts: DoraServiceOptions,
  ) {
    this.repo = new DoraRepository(db);
    this.now = opts.now ?? (() => new Date());
  }

  recordDeployment(d: NewDeployment): Promise<{ deployment: Deployment; created: boolean }> {
    return this.repo.recordDeployment(d);
  }

  recordApiDeployment(body: DeploymentRequest): Promise<{ deployment: Deployment; created: boolean }> {
    return this.repo.recordDeployment({ ...body, deployedAt: body.deployedAt ?? this.now(), source: 'api' });
  }

  async applyAlerts(payload: AlertmanagerPayload): Promise<AlertSummary> {
    const { events, ignored } = incidentEvents(payload, this.opts.incidentSeverities);
    const summary: AlertSummary = { opened: 0, resolved: 0, ignored };
    if (events.length === 0) return summary;
    await this.db.transaction(async (tx) => {
      for (const e of events) {
        const outcome = await this.repo.applyIncident(e, tx);
        if (outcome === 'unchanged') summary.ignored++;
        else summary[outcome]++;
      }
    });
    return summary;
  }

  async applyPush(e: PushEvent): Promise<{ commits: number }> {
    const commits = pushedCommits(e);
    return { commits: await this.db.transaction((tx) => this.repo.recordCommits(e.repository.full_name, commits, tx)) };
  }

  /** A successful production deployment of a sha; its lead time is known when a push told us the commit time. */
  async applyDeploymentStatus(e: DeploymentStatusEvent, service: string): Promise<{ deployment: Deployment; created: boolean }> {
    return this.db.transaction(async (tx) =>
      this.repo.recordDeployment(
        {
          service,
          version: e.deployment.sha,
          commitSha: e.deployment.sha,
          commitTime: await this.repo.commitTime(e.deployment.sha, tx),
          deployedAt: e.deployment_status.created_at,
          source: 'github',
        },
        tx,
      ),
    );
  }

  /** The window of `days` ending now. */
  async measure(days: number): Promise<PeriodMetrics> {
    const window = windowEnding(this.now(), days);
    const f = await this.facts(window.from, window.to);
    return measurePeriod(f.deployments, f.incidents, window, f.first);
  }

  /** The window ending now against the one of equal length before it. */
  async report(days: number): Promise<DoraReport> {
    const current = windowEnding(this.now(), days);
    const previous = previousWindow(current);
    const f = await this.facts(previous.from, current.to);
    return buildReport(measurePeriod(f.deployments, f.incidents, current, f.first), measurePeriod(f.deployments, f.incidents, previous, f.first));
  }

  private async facts(from: Date, to: Date): Promise<{ deployments: DeploymentFact[]; incidents: IncidentFact[]; first: Date | null }> {
    const [deployments, incidents, first] = await Promise.all([
      this.repo.deploymentFacts(from, to),
      this.repo.incidentFacts(from, to),
      this.repo.firstDeployment(),
    ]);
    return { deployments, incidents, first };
  }
}
