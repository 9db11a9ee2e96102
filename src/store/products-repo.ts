import { formatCents } from '../domain/money';
import type { Product } from '../domain/types';
import type { Queryable } from './database';

interface ProductRow {
  id: number;
  sku: string;
  name: string;
  description: string;
  category: string;
  price_cents: number;
  stock: number;
}

export function toProduct(r: ProductRow): Product {
  return {
    id: r.id,
    sku: r.sku,
    name: r.name,
    description: r.description,
    category: r.category,
    price: formatCents(r.price_cents),
    priceCents: r.price_cents,
    currency: 'USD',
    stock: r.stock,
  };
}

export interface ProductFilter {
  category?: string;
  q?: string;
  limit: number;
  offset: number;
  afterId?: number;
}

/** LIKE treats % and _ as wildcards; a search for "a_b" means the text "a_b". */
function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

const columns = 'id, sku, name, description, category, price_cents, stock';

export class ProductsRepository {
  constructor(private readonly db: Queryable) {}

  /** One round trip: the page and the number of rows the filter matches. */
  async list(f: ProductFilter): Promise<{ items: Product[]; total: number }> {
    const rows = await this.db.query<{ total: number; items: ProductRow[] }>(
      `WITH f AS (
         SELECT ${columns} FROM products
          WHERE ($1::text IS NULL OR category = $1)
            AND ($2::text IS NULL OR name ILIKE $2 OR description ILIKE $2)
       ), page AS (
         SELECT * FROM f WHERE ($3::int IS NULL OR id > $3) ORDER BY id LIMIT $4 OFFSET $5
       )
       SELECT (SELECT count(*) FROM f)::int AS total,
              coalesce((SELECT json_agg(page ORDER BY id) FROM page), '[]'::json) AS items`,
      [f.category ?? null, f.q ? likePattern(f.q) : null, f.afterId ?? null, f.limit, f.offset],
    );
    const row = rows[0];
    return { items: (row?.items ?? []).map(toProduct), total: row?.total ?? 0 };
  }

  async get(id: number): Promise<Product | undefined> {
    const rows = await this.db.query<ProductRow>(`SELECT ${columns} FROM products WHERE id = $1`, [id]);
    return rows[0] ? toProduct(rows[0]) : undefined;
  }
}
