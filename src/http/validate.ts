import type { z } from 'zod';
import { AppError } from '../domain/errors';

/** Parses client input with a schema; failures become one 400 listing every problem. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, where: 'body' | 'query' | 'params' | 'header'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw AppError.badRequest(
    'VALIDATION_FAILED',
    `invalid request ${where}`,
    result.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message })),
  );
}
