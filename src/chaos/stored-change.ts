import { z } from 'zod';
import { chaosFaultsSchema } from './faults';
import type { ChaosChange } from './state';

/** A change as replicas store it in Redis: JSON, times as ISO strings (they sort as text). */
const storedChange = z.strictObject({
  faults: chaosFaultsSchema,
  reason: z.enum(['set', 'cleared', 'expired']),
  changedAt: z.iso.datetime(),
  expiresAt: z.iso.datetime().optional(),
});

export function encodeChange(change: ChaosChange): string {
  return JSON.stringify({
    faults: change.faults,
    reason: change.reason,
    changedAt: change.changedAt.toISOString(),
    expiresAt: change.expiresAt?.toISOString(),
  });
}

/** The change in `text`; undefined when it is not one (another version's format, or garbage). */
export function decodeChange(text: string): ChaosChange | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = storedChange.safeParse(json);
  if (!parsed.success) return undefined;
  const { faults, reason, changedAt, expiresAt } = parsed.data;
  return { faults, reason, changedAt: new Date(changedAt), ...(expiresAt ? { expiresAt: new Date(expiresAt) } : {}) };
}
