import { formatCents } from '../domain/money';
import type { Order, OrderStatus } from '../domain/types';
import type { Queryable } from './database';

interface OrderRow {
  id: string;
  status: OrderStatus;
  customer_email: string;
  total_cents: string;
  request_hash: string | null;
  created_at: Date;
  cancelled_at: Date | null;
  items: { product_id: number; name: string; quantity: number; unit_price_cents: number; line_total_cents: number }[];
}

export interface StoredOrder {
  order: Order;
  requestHash: string | null;
}

function toOrder(r: OrderRow): Order {
  const totalCents = Number(r.total_cents);
  return {
    id: Number(r.id),
    status: r.status,
    customerEmail: r.customer_email,
    items: r.items.map((i) => ({
      productId: i.product_id,
      name: i.name,
      quantity: i.quantity,
      unitPrice: formatCents(i.unit_price_cents),
      unitPriceCents: i.unit_price_cents,
      lineTotal: formatCents(i.line_total_cents),
      lineTotalCents: i.line_total_cents,
    })),
    total: formatCents(totalCents),
    totalCents,
    currency: 'USD',
    createdAt: new Date(r.created_at).toISOString(),
    cancelledAt: r.cancelled_at ? new Date(r.cancelled_at).toISOString() : null,
  };
}

// An order with its lines in one query; the lines come back as a JSON array.
const selectOrders = `
  SELECT o.id, o.status, o.customer_email, o.total_cents, o.request_hash, o.created_at, o.cancelled_at,
         coalesce(json_agg(json_build_object(
           'product_id', oi.product_id, 'name', p.name, 'quantity', oi.quantity,
           'unit_price_cents', oi.unit_price_cents, 'line_total_cents', oi.line_total_cents
         ) ORDER BY oi.product_id) FILTER (WHERE oi.order_id IS NOT NULL), '[]'::json) AS items
    FROM orders o
    LEFT JOIN order_items oi ON oi.order_id = o.id
    LEFT JOIN products p ON p.id = oi.product_id`;

export interface StockRow {
  id: number;
  name: string;
  price_cents: number;
  stock: number;
}

export interface NewOrder {
  customerEmail: string;
  totalCents: number;
  idempotencyKey?: string;
  requestHash: string;
  lines: { productId: number; quantity: number; unitPriceCents: number; lineTotalCents: number }[];
}

export class OrdersRepository {
  constructor(private readonly db: Queryable) {}

  async get(id: number, q: Queryable = this.db): Promise<StoredOrder | undefined> {
    const rows = await q.query<OrderRow>(`${selectOrders} WHERE o.id = $1 GROUP BY o.id`, [id]);
    return rows[0] ? { order: toOrder(rows[0]), requestHash: rows[0].request_hash } : undefined;
  }

  async findByIdempotencyKey(key: string, q: Queryable = this.db): Promise<StoredOrder | undefined> {
    const rows = await q.query<OrderRow>(`${selectOrders} WHERE o.idempotency_key = $1 GROUP BY o.id`, [key]);
    return rows[0] ? { order: toOrder(rows[0]), requestHash: rows[0].request_hash } : undefined;
  }

  async list(limit: number, offset: number): Promise<{ orders: Order[]; total: number }> {
    const [rows, count] = await Promise.all([
      this.db.query<OrderRow>(`${selectOrders} GROUP BY o.id ORDER BY o.created_at DESC, o.id DESC LIMIT $1 OFFSET $2`, [limit, offset]),
      this.db.query<{ total: number }>('SELECT count(*)::int AS total FROM orders'),
    ]);
    return { orders: rows.map(toOrder), total: count[0]?.total ?? 0 };
  }

  /** Locks the products' rows until the transaction ends, in id order to avoid deadlocks. */
  async lockProducts(tx: Queryable, ids: number[]): Promise<StockRow[]> {
    return tx.query<StockRow>('SELECT id, name, price_cents, stock FROM products WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE', [ids]);
  }

  async adjustStock(tx: Queryable, ids: number[], deltas: number[]): Promise<void> {
    await tx.query(
      `UPDATE products p SET stock = p.stock + v.delta, updated_at = now()
         FROM (SELECT unnest($1::int[]) AS id, unnest($2::int[]) AS delta) v
        WHERE p.id = v.id`,
      [ids, deltas],
    );
  }

  /** Undefined when another order already holds the idempotency key. */
  async insert(tx: Queryable, o: NewOrder): Promise<number | undefined> {
    const rows = await tx.query<{ id: string }>(
      `INSERT INTO orders (customer_email, total_cents, idempotency_key, request_hash)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING id`,
      [o.customerEmail, o.totalCents, o.idempotencyKey ?? null, o.requestHash],
    );
    const id = rows[0] ? Number(rows[0].id) : undefined;
    if (id === undefined) return undefined;
    await tx.query(
      `INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents, line_total_cents)
       SELECT $1, * FROM unnest($2::int[], $3::int[], $4::int[], $5::bigint[])`,
      [id, o.lines.map((l) => l.productId), o.lines.map((l) => l.quantity), o.lines.map((l) => l.unitPriceCents), o.lines.map((l) => l.lineTotalCents)],
    );
    return id;
  }

  /** Marks the order cancelled; false when it was not in the created state or is not this customer's. */
  async markCancelled(tx: Queryable, id: number, customerEmail: string): Promise<boolean> {
    const rows = await tx.query(
      `UPDATE orders SET status = 'cancelled', cancelled_at = now() WHERE id = $1 AND customer_email = $2 AND status = 'created' RETURNING id`,
      [id, customerEmail],
    );
    return rows.length === 1;
  }

  async lines(tx: Queryable, orderId: number): Promise<{ product_id: number; quantity: number }[]> {
    return tx.query('SELECT product_id, quantity FROM order_items WHERE order_id = $1 ORDER BY product_id', [orderId]);
  }
}
