import { Router } from 'express';
import { alertmanagerPayload } from '../alerting/alertmanager-payload';
import { AppError } from '../domain/errors';
import { webhookGuard } from '../http/middleware/bearer-token';
import { jsonBody } from '../http/json-body';
import { parseInput } from '../http/validate';
import { deploymentStatusEvent, githubQuery, pushEvent } from './github';
import { githubWebhookBody } from './github-signature';
import { deploymentRequest, metricsQuery } from './schemas';
import type { DoraService } from './service';

// Alertmanager sends every alert of a group in one body (max_alerts: 0); GitHub pushes can be large too.
const WEBHOOK_BODY_LIMIT = 1024 * 1024;

export interface DoraRouteOptions {
  /** GITHUB_WEBHOOK_SECRET: with it, GitHub deliveries must be signed with it. */
  githubWebhookSecret?: string;
  /** WEBHOOK_TOKEN: with it, deployments and Alertmanager's notifications need it as a bearer token. */
  webhookToken?: string;
}

export function doraRoutes(dora: DoraService, opts: DoraRouteOptions = {}): Router {
  const router = Router();
  const guardedJson = [...webhookGuard(opts.webhookToken), ...jsonBody(WEBHOOK_BODY_LIMIT)];
  const githubJson = githubWebhookBody(opts.githubWebhookSecret, WEBHOOK_BODY_LIMIT);

  router.get('/api/dora-metrics', async (req, res) => {
    const { days } = parseInput(metricsQuery, req.query, 'query');
    res.json(await dora.report(days));
  });

  router.post('/api/dora/deployments', ...guardedJson, async (req, res) => {
    const { deployment, created } = await dora.recordApiDeployment(parseInput(deploymentRequest, req.body, 'body'));
    res.status(created ? 201 : 200).json(deployment);
  });

  router.post('/api/dora/alertmanager', ...guardedJson, async (req, res) => {
    res.json(await dora.applyAlerts(parseInput(alertmanagerPayload, req.body, 'body')));
  });

  router.post('/api/dora/github', ...githubJson, async (req, res) => {
    const query = parseInput(githubQuery, req.query, 'query');
    const event = req.get('X-GitHub-Event');
    if (!event) throw AppError.badRequest('MISSING_EVENT', 'the X-GitHub-Event header names the event; it is missing');
    if (event === 'push') {
      res.json({ event, ...(await dora.applyPush(parseInput(pushEvent, req.body, 'body'))) });
    } else if (event === 'deployment_status') {
      const e = parseInput(deploymentStatusEvent, req.body, 'body');
      if (e.deployment_status.state !== 'success' || e.deployment.environment !== query.environment) {
        res.json({ event, recorded: false });
        return;
      }
      const { deployment, created } = await dora.applyDeploymentStatus(e, query.service ?? e.repository.name);
      res.status(created ? 201 : 200).json({ event, recorded: created, deployment });
    } else {
      // ping and every other event: acknowledged, so GitHub does not mark the hook failing.
      res.json({ event, recorded: false });
    }
  });

  return router;
}
