import { Router } from 'express';
import { noAnswerWithin, withTimeout } from '../../timeout';

export interface DependencyCheck {
  name: string;
  /** Readiness fails only on required dependencies; the cache is optional by design. */
  required: boolean;
  check: () => Promise<void>;
}

export interface HealthOptions {
  version: string;
  checks: DependencyCheck[];
  timeoutMs: number;
  isShuttingDown: () => boolean;
}

export function healthRoutes(opts: HealthOptions): Router {
  const router = Router();

  // Liveness: the process answers. It touches no dependency, so a database outage
  // never makes an orchestrator restart healthy containers.
  router.get('/health', (_req, res) => {
    res.json({
      status: 'ok',
      timestamp: new Date().toISOString(),
      uptime: Math.round(process.uptime()),
      version: opts.version,
    });
  });

  router.get('/health/ready', async (_req, res) => {
    const results = await Promise.all(
      opts.checks.map(async (c) => {
        const started = performance.now();
        try {
          await withTimeout(c.check(), opts.timeoutMs, noAnswerWithin(opts.timeoutMs));
          return { name: c.name, required: c.required, status: 'up' as const, latencyMs: Math.round(performance.now() - started) };
        } catch (err) {
          return { name: c.name, required: c.required, status: 'down' as const, error: (err as Error).message.slice(0, 200) };
        }
      }),
    );
    const shuttingDown = opts.isShuttingDown();
    const ready = !shuttingDown && results.every((r) => r.status === 'up' || !r.required);
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not_ready',
      ...(shuttingDown ? { reason: 'shutting down' } : {}),
      timestamp: new Date().toISOString(),
      dependencies: Object.fromEntries(results.map(({ name, ...rest }) => [name, rest])),
    });
  });

  return router;
}
