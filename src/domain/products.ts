import type { Cache } from '../cache/cache';
import { readThrough } from '../cache/read-through';
import type { ProductsRepository } from '../store/products-repo';
import { AppError } from './errors';
import type { ProductListQuery } from './schemas';
import type { DomainEvents, Product, ProductPage } from './types';

const GENERATION_KEY = 'products:generation';
const DEFAULT_LIMIT = 20;

/**
 * The catalog, read through the cache. List entries are keyed by a generation
 * number that an order bumps, so one INCR invalidates every cached page at once
 * (no key scans), and stale pages age out by TTL.
 */
export class ProductService {
  constructor(
    private readonly repo: ProductsRepository,
    private readonly cache: Cache,
    private readonly ttlSeconds: number,
    private readonly events: DomainEvents,
  ) {}

  async list(query: ProductListQuery): Promise<{ page: ProductPage; hit: boolean }> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const offset = query.offset ?? 0;
    const afterId = query.cursor !== undefined ? Number(query.cursor) : undefined;
    const q = query.q?.toLowerCase();
    const { value, hit } = await readThrough(
      async () => {
        const generation = (await this.cache.get(GENERATION_KEY)) ?? '0';
        return `products:list:${generation}:${JSON.stringify([query.category ?? '', q ?? '', limit, offset, afterId ?? ''])}`;
      },
      {
        cache: this.cache,
        ttlSeconds: this.ttlSeconds,
        onResult: (r) => this.events.cacheResult(r),
        load: async (): Promise<ProductPage> => {
          const { items, total } = await this.repo.list({ category: query.category, q, limit, offset, afterId });
          const last = items.at(-1);
          const more = items.length === limit && (afterId !== undefined || offset + limit < total);
          return { data: items, page: { limit, offset, total, nextCursor: more && last ? String(last.id) : null } };
        },
      },
    );
    return { page: value, hit };
  }

  async get(id: number): Promise<{ product: Product; hit: boolean }> {
    const { value, hit } = await readThrough(async () => `product:${id}`, {
      cache: this.cache,
      ttlSeconds: this.ttlSeconds,
      onResult: (r) => this.events.cacheResult(r),
      load: async () => {
        const product = await this.repo.get(id);
        if (!product) throw AppError.notFound(`product ${id}`);
        return product;
      },
    });
    return { product: value, hit };
  }

  /** After stock changes: drop the products' own entries and every cached list page. */
  async invalidate(productIds: number[]): Promise<void> {
    await Promise.allSettled([
      this.cache.incr(GENERATION_KEY),
      this.cache.del(productIds.map((id) => `product:${id}`)),
    ]);
  }
}
