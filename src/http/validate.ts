import type { z } from 'zod';
import { AppError } from '../domain/errors';
import { NUL_MESSAGE, nulPaths } from './nul-text';

/**
 * Parses client input with a schema; failures become one 400 listing every problem.
 * A NUL anywhere in the input is one of those problems, whatever the schema says.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, where: 'body' | 'query' | 'params' | 'header'): z.output<S> {
  const result = schema.safeParse(input);
  const nul = nulPaths(input).map((path) => ({ path, message: NUL_MESSAGE }));
  if (result.success && nul.length === 0) return result.data;
  const issues = [...nul, ...(result.success ? [] : result.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })))];
  throw AppError.badRequest(
    'VALIDATION_FAILED',
    `invalid request ${where}`,
    issues.map((i) => ({ path: [where, ...i.path].join('.'), message: i.message })),
  );
}
