import type { Config } from '../config';
import type { Logger } from '../telemetry/logger';

/**
 * The endpoints other systems push to that anyone who reaches the port may write to, as the
 * variable guarding each one is unset: open by design, so the lab works without secrets.
 */
export function openWriteEndpoints(config: Pick<Config, 'webhookToken' | 'dora'>): string[] {
  return [
    ...(config.webhookToken ? [] : ['POST /api/dora/deployments', 'POST /api/dora/alertmanager', 'POST /api/alerts/:receiver']),
    ...(config.dora.githubWebhookSecret ? [] : ['POST /api/dora/github']),
  ];
}

/**
 * Under NODE_ENV=production, says once which endpoints are open. It does not refuse to
 * start: the Compose stack runs as production and may rightly run without the secrets.
 */
export function warnOpenEndpoints(config: Pick<Config, 'webhookToken' | 'dora' | 'nodeEnv'>, logger: Logger): void {
  const endpoints = openWriteEndpoints(config);
  if (config.nodeEnv !== 'production' || endpoints.length === 0) return;
  logger.warn(
    { endpoints },
    'these endpoints accept anonymous writes (deployments, incidents, alert notifications): set WEBHOOK_TOKEN and GITHUB_WEBHOOK_SECRET to guard them',
  );
}
