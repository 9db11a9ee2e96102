import { Router } from 'express';
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, renderMetrics, wantsOpenMetrics } from '../../telemetry/exposition';
import type { Metrics } from '../../telemetry/metrics';

export function metricsRoutes(metrics: Metrics, beforeScrape: () => void | Promise<void>): Router {
  const router = Router();
  router.get('/metrics', async (req, res) => {
    await beforeScrape();
    const openMetrics = wantsOpenMetrics(req.get('Accept'));
    res.type(openMetrics ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE).send(await renderMetrics(metrics.registry, openMetrics));
  });
  return router;
}
