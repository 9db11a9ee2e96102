import { z } from 'zod';

/**
 * An ISO 8601 date-time that names its zone (Z or an offset), as a Date: never a local time.
 * `abort` keeps the object refinements of the schemas using it from running on the unparsed string.
 */
export const isoTime = z.iso
  .datetime({ offset: true, abort: true, error: 'must be an ISO 8601 date-time with a zone, e.g. 2026-01-31T12:00:00Z' })
  .transform((s) => new Date(s));
