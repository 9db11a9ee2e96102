import { Router } from 'express';
import type { ProductService } from '../../domain/products';
import { idParam, productListQuery } from '../../domain/schemas';
import { annotateSpan } from '../../telemetry/trace-context';
import { sendRead } from '../send-json';
import { parseInput } from '../validate';

export function productRoutes(products: ProductService): Router {
  const router = Router();

  router.get('/api/products', async (req, res) => {
    const query = parseInput(productListQuery, req.query, 'query');
    const read = await products.list(query);
    // A hit kept as stored text has no parsed page to count; its miss counted it.
    annotateSpan({ 'cloudmart.cache.hit': read.hit, ...(read.value ? { 'cloudmart.products.count': read.value.data.length } : {}) });
    res.setHeader('X-Cache', read.hit ? 'HIT' : 'MISS');
    sendRead(res, read);
  });

  router.get('/api/products/:id', async (req, res) => {
    const id = parseInput(idParam, req.params.id, 'params');
    const read = await products.get(id);
    annotateSpan({ 'cloudmart.cache.hit': read.hit, 'cloudmart.product.id': id });
    res.setHeader('X-Cache', read.hit ? 'HIT' : 'MISS');
    sendRead(res, read);
  });

  return router;
}
