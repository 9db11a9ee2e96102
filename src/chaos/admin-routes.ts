import express, { Router } from 'express';
import { requireBearerToken } from '../http/middleware/bearer-token';
import { requireJson } from '../http/middleware/errors';
import { parseInput } from '../http/validate';
import { chaosFaultsSchema } from './faults';
import type { ChaosState } from './state';

export const CHAOS_PATH = '/api/admin/chaos';

/** PUT replaces the active faults, GET shows them, DELETE clears them. */
export function chaosRoutes(state: ChaosState, token: string): Router {
  const router = Router();
  router
    .route(CHAOS_PATH)
    .all(requireBearerToken(token, { realm: 'cloudmart-chaos', variable: 'CHAOS_TOKEN' }))
    .get((_req, res) => {
      res.json(state.snapshot());
    })
    .put(requireJson, express.json({ limit: '10kb', strict: true }), (req, res) => {
      res.json(state.set(parseInput(chaosFaultsSchema, req.body, 'body')));
    })
    .delete((_req, res) => {
      res.json(state.clear());
    });
  return router;
}
