import { z } from 'zod';

/** Input schemas: everything a client sends is parsed here before it reaches SQL. */

const MAX_INT4 = 2_147_483_647;

/**
 * An id in a path is written one way: decimal digits without a leading zero. Number() also
 * reads 1e0, 0x1, +1, 01, 1.0 and " 1" as 1, which would give one resource many URLs.
 */
export const idParam = z
  .string({ error: 'must be a positive integer' })
  .regex(/^[1-9]\d*$/, { error: 'must be a positive integer in decimal digits, without a sign or leading zeros', abort: true })
  .refine((s) => s.length <= 10 && Number(s) <= MAX_INT4, 'is too large')
  .transform(Number);

// Query parameters arrive as strings; an array (?limit=1&limit=2) is a client error, not a crash.
const queryString = z.string({ error: 'must be given once, as a string' });

const queryInt = (min: number, max: number) =>
  queryString
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const productListQuery = z
  .object({
    limit: queryInt(1, 100).optional(),
    offset: queryInt(0, 100_000).optional(),
    // A cursor is a product id, so it fits the int4 the query casts it to.
    cursor: queryString
      .regex(/^\d{1,10}$/, 'must be the nextCursor of a previous page')
      .refine((s) => Number(s) <= MAX_INT4, 'must be the nextCursor of a previous page')
      .optional(),
    category: queryString.trim().toLowerCase().min(1).max(50).optional(),
    q: queryString.trim().min(1).max(100).optional(),
  })
  .strict()
  .refine((v) => !(v.cursor !== undefined && v.offset !== undefined), {
    message: 'use either offset or cursor, not both',
    path: ['cursor'],
  });

export type ProductListQuery = z.infer<typeof productListQuery>;

export const orderListQuery = z
  .object({
    limit: queryInt(1, 100).optional(),
    offset: queryInt(0, 1_000_000).optional(),
  })
  .strict();

export const MAX_QUANTITY = 1000;
export const MAX_ITEMS = 50;

export const orderRequest = z
  .object({
    items: z
      .array(
        z
          .object({
            productId: z.number().int().positive().max(MAX_INT4),
            quantity: z.number().int().min(1).max(MAX_QUANTITY),
          })
          .strict(),
      )
      .min(1, 'an order needs at least one item')
      .max(MAX_ITEMS),
    customerEmail: z.email().max(254),
  })
  .strict();

export type OrderRequest = z.infer<typeof orderRequest>;

/**
 * The proof that a cancel comes from the customer: the e-mail the order was placed with. Optional
 * here, so a missing proof gets the same 404 as a wrong one (no id can be probed either way).
 */
export const cancelRequest = z
  .object({
    customerEmail: z.string().max(254).optional(),
  })
  .strict();

export const idempotencyKey = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');
