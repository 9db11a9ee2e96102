import { Router } from 'express';
import { requireBearerToken } from '../http/middleware/bearer-token';
import { jsonBody } from '../http/json-body';
import { parseInput } from '../http/validate';
import { chaosFaultsSchema } from './faults';
import type { ChaosControl } from './control';

export const CHAOS_PATH = '/api/admin/chaos';

/** PUT replaces the active faults, GET shows them, DELETE clears them. */
export function chaosRoutes(control: ChaosControl, token: string): Router {
  const router = Router();
  router
    .route(CHAOS_PATH)
    .all(requireBearerToken(token, { realm: 'cloudmart-chaos', variable: 'CHAOS_TOKEN' }))
    .get((_req, res) => {
      res.json(control.snapshot());
    })
    .put(...jsonBody(10 * 1024), async (req, res) => {
      res.json(await control.set(parseInput(chaosFaultsSchema, req.body, 'body')));
    })
    .delete(async (_req, res) => {
      res.json(await control.clear());
    });
  return router;
}
