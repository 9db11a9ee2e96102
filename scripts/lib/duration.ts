/**
 * The one parser for durations, as the CLIs take them and the stack's files hold them: "500ms",
 * "45s", "2m", "1h", and Prometheus's compounds such as "1h30m" (units ms, s, m, h, d, w, y).
 *
 * A bare number ("90") has no unit of its own here, because the tools' documentation promises
 * different ones: the doctor's timeout is milliseconds (DOCTOR_TIMEOUT_MS), `npm run load` and
 * `npm run bench` take seconds. Each caller passes the unit its docs promise; without one a bare
 * number is refused, as Prometheus refuses it.
 */
export const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 } as const;
export type DurationUnit = keyof typeof UNIT_MS;

// "ms" before "m" and "s", so that 500ms is not read as 500m followed by a stray s.
const PART = '(\\d+(?:\\.\\d+)?)(ms|s|m|h|d|w|y)';
const WHOLE = new RegExp(`^(?:${PART})+$`);
const BARE = /^\d+(?:\.\d+)?$/;

/** `text` in whole milliseconds, or undefined when it is not a duration (or is a bare number and no `bareUnit` is given). */
export function parseDuration(text: string, bareUnit?: DurationUnit): number | undefined {
  const s = text.trim();
  if (BARE.test(s)) return bareUnit === undefined ? undefined : Math.round(Number(s) * UNIT_MS[bareUnit]);
  if (!WHOLE.test(s)) return undefined;
  let ms = 0;
  for (const [, n = '0', unit = 'ms'] of s.matchAll(new RegExp(PART, 'g'))) ms += Number(n) * UNIT_MS[unit as DurationUnit];
  return Math.round(ms);
}
