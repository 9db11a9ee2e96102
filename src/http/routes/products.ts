import { Router, type RequestHandler } from 'express';
import type { ProductService } from '../../domain/products';
import { idParam, productListQuery } from '../../domain/schemas';
import { annotateSpan } from '../../telemetry/tracer';
import { PRODUCT_CACHE_CONTROL } from '../middleware/security-headers';
import { sendRead } from '../send-json';
import { parseInput } from '../validate';

/** `hooks` run ahead of each handler, once Express has matched the route. */
export function productRoutes(products: ProductService, hooks: RequestHandler[] = []): Router {
  const router = Router();

  router.get('/api/products', ...hooks, async (req, res) => {
    const query = parseInput(productListQuery, req.query, 'query');
    const read = await products.list(query);
    // A hit kept as stored text has no parsed page to count; its miss counted it.
    annotateSpan({ 'cloudmart.cache.hit': read.hit, ...(read.value ? { 'cloudmart.products.count': read.value.data.length } : {}) });
    res.setHeader('X-Cache', read.hit ? 'HIT' : 'MISS');
    res.setHeader('Cache-Control', PRODUCT_CACHE_CONTROL);
    sendRead(res, read);
  });

  router.get('/api/products/:id', ...hooks, async (req, res) => {
    const id = parseInput(idParam, req.params.id, 'params');
    const read = await products.get(id);
    annotateSpan({ 'cloudmart.cache.hit': read.hit, 'cloudmart.product.id': id });
    res.setHeader('X-Cache', read.hit ? 'HIT' : 'MISS');
    res.setHeader('Cache-Control', PRODUCT_CACHE_CONTROL);
    sendRead(res, read);
  });

  return router;
}
