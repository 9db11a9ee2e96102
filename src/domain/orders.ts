import { createHash } from 'node:crypto';
import type { Queryable } from '../store/database';
import type { OrdersRepository, StockRow } from '../store/orders-repo';
import { AppError } from './errors';
import { MAX_QUANTITY, type OrderRequest } from './schemas';
import type { DomainEvents, Order, OrderPage } from './types';

export interface UnitOfWork {
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

export interface PlacedOrder {
  order: Order;
  /** True when an Idempotency-Key retry got the order the first request created. */
  replayed: boolean;
}

/** Thrown inside the transaction to roll it back when a concurrent retry won the key. */
class KeyTakenConcurrently extends Error {}

/** Same product twice in one request: one line with the summed quantity. */
function mergeLines(items: OrderRequest['items']): { productId: number; quantity: number }[] {
  const byId = new Map<number, number>();
  for (const i of items) byId.set(i.productId, (byId.get(i.productId) ?? 0) + i.quantity);
  const lines = [...byId].map(([productId, quantity]) => ({ productId, quantity })).sort((a, b) => a.productId - b.productId);
  const tooMany = lines.filter((l) => l.quantity > MAX_QUANTITY);
  if (tooMany.length) {
    throw AppError.badRequest('VALIDATION_FAILED', `quantity per product must be at most ${MAX_QUANTITY}`, {
      productIds: tooMany.map((l) => l.productId),
    });
  }
  return lines;
}

function requestHash(email: string, lines: { productId: number; quantity: number }[]): string {
  return createHash('sha256').update(JSON.stringify({ email, lines })).digest('hex');
}

export class OrderService {
  constructor(
    private readonly db: UnitOfWork,
    private readonly repo: OrdersRepository,
    private readonly events: DomainEvents,
    private readonly invalidateProducts: (ids: number[]) => Promise<void>,
  ) {}

  async place(request: OrderRequest, idempotencyKey?: string): Promise<PlacedOrder> {
    const lines = mergeLines(request.items);
    const email = request.customerEmail.toLowerCase();
    const hash = requestHash(email, lines);
    try {
      const placed = await this.placeOnce(lines, email, hash, idempotencyKey);
      if (!placed.replayed) {
        this.events.orderCreated(placed.order);
        await this.invalidateProducts(lines.map((l) => l.productId));
      }
      return placed;
    } catch (err) {
      if (!(err instanceof KeyTakenConcurrently && idempotencyKey)) throw this.failed(err);
    }
    try {
      return await this.replay(idempotencyKey, hash);
    } catch (err) {
      throw this.failed(err);
    }
  }

  private failed(err: unknown): unknown {
    this.events.orderFailed(err instanceof AppError ? err.code.toLowerCase() : 'error');
    return err;
  }

  private async placeOnce(
    lines: { productId: number; quantity: number }[],
    email: string,
    hash: string,
    idempotencyKey: string | undefined,
  ): Promise<PlacedOrder> {
    return this.db.transaction(async (tx) => {
      if (idempotencyKey) {
        const existing = await this.repo.findByIdempotencyKey(idempotencyKey, tx);
        if (existing) return { order: this.sameRequestOrThrow(existing.requestHash, hash, existing.order), replayed: true };
      }
      const ids = lines.map((l) => l.productId);
      const stock = new Map<number, StockRow>((await this.repo.lockProducts(tx, ids)).map((p) => [p.id, p]));
      const unknown = ids.filter((id) => !stock.has(id));
      if (unknown.length) {
        throw AppError.unprocessable('UNKNOWN_PRODUCT', 'the order names products that do not exist', { productIds: unknown });
      }
      const short = lines
        .map((l) => ({ productId: l.productId, requested: l.quantity, available: stock.get(l.productId)?.stock ?? 0 }))
        .filter((l) => l.requested > l.available);
      if (short.length) throw AppError.conflict('INSUFFICIENT_STOCK', 'not enough stock for this order', { items: short });

      const priced = lines.map((l) => {
        const unitPriceCents = stock.get(l.productId)?.price_cents ?? 0;
        return { ...l, unitPriceCents, lineTotalCents: unitPriceCents * l.quantity };
      });
      const totalCents = priced.reduce((sum, l) => sum + l.lineTotalCents, 0);
      await this.repo.adjustStock(
        tx,
        ids,
        lines.map((l) => -l.quantity),
      );
      const id = await this.repo.insert(tx, { customerEmail: email, totalCents, idempotencyKey, requestHash: hash, lines: priced });
      if (id === undefined) throw new KeyTakenConcurrently();
      const created = await this.repo.get(id, tx);
      if (!created) throw new Error(`order ${id} vanished inside its own transaction`);
      return { order: created.order, replayed: false };
    });
  }

  private async replay(idempotencyKey: string, hash: string): Promise<PlacedOrder> {
    const existing = await this.repo.findByIdempotencyKey(idempotencyKey);
    if (!existing) throw new Error('idempotency key conflict without a stored order');
    return { order: this.sameRequestOrThrow(existing.requestHash, hash, existing.order), replayed: true };
  }

  private sameRequestOrThrow(storedHash: string | null, hash: string, order: Order): Order {
    if (storedHash !== hash) {
      throw AppError.unprocessable('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was already used for a different order request');
    }
    return order;
  }

  async get(id: number): Promise<Order> {
    const stored = await this.repo.get(id);
    if (!stored) throw AppError.notFound(`order ${id}`);
    return stored.order;
  }

  async list(limit: number, offset: number): Promise<OrderPage> {
    const { orders, total } = await this.repo.list(limit, offset);
    return { data: orders, page: { limit, offset, total } };
  }

  /**
   * Cancels once: the status change and the stock restore commit together or not at all.
   * Only with the order's customer e-mail as proof; without it the order is "not found", the
   * same answer as for an id that does not exist, so guessing ids tells nothing.
   */
  async cancel(id: number, customerEmail: string | undefined): Promise<Order> {
    // Stored lower-cased by place(); compared the same way.
    const email = customerEmail?.toLowerCase();
    const productIds = await this.db.transaction(async (tx) => {
      if (email === undefined || !(await this.repo.markCancelled(tx, id, email))) {
        const existing = await this.repo.get(id, tx);
        if (!existing || existing.order.customerEmail !== email) throw AppError.notFound(`order ${id}`);
        throw AppError.conflict('ORDER_NOT_CANCELLABLE', `order ${id} is already ${existing.order.status}`);
      }
      const lines = await this.repo.lines(tx, id);
      await this.repo.adjustStock(
        tx,
        lines.map((l) => l.product_id),
        lines.map((l) => l.quantity),
      );
      return lines.map((l) => l.product_id);
    });
    await this.invalidateProducts(productIds);
    return this.get(id);
  }
}
