/**
 * The names of the optimisations in src/tuning/, one per module, as CLOUDMART_TUNING lists
 * them. No imports: the config reads this before the tracer has patched anything.
 */
export const TUNINGS = ['request-log'] as const;

export type TuningName = (typeof TUNINGS)[number];

/** Which optimisations run; every one false is the textbook path. */
export type Tunings = Readonly<Record<TuningName, boolean>>;

/**
 * CLOUDMART_TUNING: `true` (all, the default), `false` (none), or a comma-separated list of
 * the ones to run, to measure one against the rest.
 * Undefined for a name that is not one of TUNINGS.
 */
export function parseTunings(value: string): Tunings | undefined {
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(v)) return everyTuning(true);
  if (['false', '0', 'no'].includes(v)) return everyTuning(false);
  const listed = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!listed.length || !listed.every((n): n is TuningName => (TUNINGS as readonly string[]).includes(n))) return undefined;
  return Object.fromEntries(TUNINGS.map((n) => [n, listed.includes(n)])) as Record<TuningName, boolean>;
}

export function everyTuning(on: boolean): Tunings {
  return Object.fromEntries(TUNINGS.map((n) => [n, on])) as Record<TuningName, boolean>;
}
