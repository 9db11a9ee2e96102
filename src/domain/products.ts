import { hash } from 'node:crypto';
import type { Cache } from '../cache/cache';
import { keySlot, readThrough, type CachedRead, type CacheSlot } from '../cache/read-through';
import type { ProductsRepository } from '../store/products-repo';
import { AppError } from './errors';
import type { ProductListQuery } from './schemas';
import type { DomainEvents, Product, ProductPage } from './types';

const GENERATION_KEY = 'products:generation';
const DEFAULT_LIMIT = 20;

/**
 * A list page's cache key: a digest of its normalised parameters, never the parameters
 * themselves. The Redis instrumentation records each command's key in db.query.text, so a
 * key holding the search text would copy what users type into every trace backend.
 * 128 bits of SHA-256 keep collisions out of reach for any catalog's worth of pages.
 */
function listKey(params: readonly (string | number)[]): string {
  return `products:list:${hash('sha256', JSON.stringify(params)).slice(0, 32)}`;
}

/**
 * The catalog, read through the cache. Every cached list page is stamped with the
 * catalog's generation, a number an order bumps: one INCR invalidates every page at
 * once (no key scans), and stale pages age out by TTL or are overwritten.
 */
export class ProductService {
  constructor(
    private readonly repo: ProductsRepository,
    private readonly cache: Cache,
    private readonly ttlSeconds: number,
    private readonly events: DomainEvents,
    /** Keep hits as their stored JSON text (see readThrough's keepText). */
    private readonly keepText = false,
  ) {}

  async list(query: ProductListQuery): Promise<CachedRead<ProductPage>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const offset = query.offset ?? 0;
    const afterId = query.cursor !== undefined ? Number(query.cursor) : undefined;
    const q = query.q?.toLowerCase();
    const key = listKey([query.category ?? '', q ?? '', limit, offset, afterId ?? '']);
    return readThrough(() => this.listSlot(key), {
      keepText: this.keepText,
      onResult: (r) => this.events.cacheResult(r),
      load: async (): Promise<ProductPage> => {
        const { items, total } = await this.repo.list({ category: query.category, q, limit, offset, afterId });
        const last = items.at(-1);
        const more = items.length === limit && (afterId !== undefined || offset + limit < total);
        return { data: items, page: { limit, offset, total, nextCursor: more && last ? String(last.id) : null } };
      },
    });
  }

  async get(id: number): Promise<CachedRead<Product>> {
    return readThrough(() => keySlot(this.cache, `product:${id}`, this.ttlSeconds), {
      keepText: this.keepText,
      onResult: (r) => this.events.cacheResult(r),
      load: async () => {
        const product = await this.repo.get(id);
        if (!product) throw AppError.notFound(`product ${id}`);
        return product;
      },
    });
  }

  /**
   * A list page's entry is "<generation>\n<page JSON>", current only while the catalog's
   * generation is the one it was loaded under. The generation and the page come in one
   * MGET: one round trip, and one Redis span in the trace, per cached read. A miss stores
   * its page under the generation read before loading, so a page loaded just before an
   * order's INCR is stale on arrival and never served.
   */
  private async listSlot(key: string): Promise<CacheSlot> {
    const [generation, entry] = await this.cache.getMany([GENERATION_KEY, key]);
    const stamp = `${generation ?? '0'}\n`;
    return {
      cached: entry?.startsWith(stamp) ? entry.slice(stamp.length) : undefined,
      store: (text) => this.cache.set(key, stamp + text, this.ttlSeconds),
    };
  }

  /** After stock changes: drop the products' own entries and every cached list page. */
  async invalidate(productIds: number[]): Promise<void> {
    await Promise.allSettled([this.cache.incr(GENERATION_KEY), this.cache.del(productIds.map((id) => `product:${id}`))]);
  }
}
