import { z } from 'zod';
import { isoTime } from '../http/iso-time';
import { commitSha } from './schemas';

/**
 * The two GitHub webhook events Four Keys' GitHub parser reads, reduced to the
 * fields the metrics need: `push` gives commit times, `deployment_status` with
 * state `success` is a deployment (of `deployment.sha`).
 */

const repository = z.object({ name: z.string().min(1).max(100), full_name: z.string().min(1).max(200) });
const commit = z.object({ id: commitSha, timestamp: isoTime });

export const pushEvent = z.object({
  ref: z.string(),
  repository,
  commits: z.array(commit).default([]),
  head_commit: commit.nullable().optional(),
});

export const deploymentStatusEvent = z.object({
  deployment_status: z.object({ state: z.string().min(1), created_at: isoTime }),
  deployment: z.object({ sha: commitSha, environment: z.string().min(1) }),
  repository,
});

export type PushEvent = z.output<typeof pushEvent>;
export type DeploymentStatusEvent = z.output<typeof deploymentStatusEvent>;

export const githubQuery = z
  .object({
    // The name deployments are recorded under; defaults to the repository name.
    service: z.string({ error: 'must be given once' }).trim().min(1).max(100).optional(),
    // DORA counts releases to production; deployments to other environments are skipped.
    environment: z.string({ error: 'must be given once' }).trim().min(1).max(100).default('production'),
  })
  .strict();

/** Every commit a push names, once each (head_commit is usually also the last of commits). */
export function pushedCommits(e: PushEvent): { sha: string; committedAt: Date }[] {
  const bySha = new Map<string, Date>();
  for (const c of [...e.commits, ...(e.head_commit ? [e.head_commit] : [])]) bySha.set(c.id, c.timestamp);
  return [...bySha].map(([sha, committedAt]) => ({ sha, committedAt }));
}
