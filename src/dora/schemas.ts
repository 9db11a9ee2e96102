import { z } from 'zod';
import { isoTime } from '../http/iso-time';

/** Input schemas shared by the DORA endpoints; everything is parsed here before it reaches SQL. */

// Clocks disagree a little; a deploy stamped a few minutes ahead is skew, hours ahead is a mistake.
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export const commitSha = z
  .string()
  .regex(/^[0-9a-f]{7,40}$/i, 'must be a git commit sha (7-40 hex digits)')
  .transform((s) => s.toLowerCase());

const name = (max: number) => z.string().trim().min(1).max(max);

export const deploymentRequest = z
  .object({
    service: name(100),
    version: name(100),
    commitSha,
    commitTime: isoTime,
    deployedAt: isoTime.optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    const limit = Date.now() + MAX_CLOCK_SKEW_MS;
    if (d.deployedAt && d.deployedAt.getTime() > limit) {
      ctx.addIssue({ code: 'custom', path: ['deployedAt'], message: 'must not be in the future' });
    }
    if (d.commitTime.getTime() > (d.deployedAt?.getTime() ?? limit)) {
      ctx.addIssue({ code: 'custom', path: ['commitTime'], message: 'must not be after the deployment' });
    }
  });

export type DeploymentRequest = z.output<typeof deploymentRequest>;

const queryString = z.string({ error: 'must be given once, as a string' });

export const MAX_DAYS = 365;

export const metricsQuery = z
  .object({
    days: queryString
      .regex(/^\d{1,4}$/, 'must be a whole number of days')
      .transform(Number)
      .pipe(z.number().int().min(1).max(MAX_DAYS))
      .default(30),
  })
  .strict();
