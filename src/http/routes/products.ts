import { Router, type RequestHandler } from 'express';
import type { ProductService } from '../../domain/products';
import { idParam, productListQuery } from '../../domain/schemas';
import { annotateSpan } from '../../telemetry/request-span';
import { parseInput } from '../validate';

/** `hooks` run ahead of each handler, once Express has matched the route. */
export function productRoutes(products: ProductService, hooks: RequestHandler[] = []): Router {
  const router = Router();

  router.get('/api/products', ...hooks, async (req, res) => {
    const query = parseInput(productListQuery, req.query, 'query');
    const { page, hit } = await products.list(query);
    annotateSpan({ 'cloudmart.cache.hit': hit, 'cloudmart.products.count': page.data.length });
    res.setHeader('X-Cache', hit ? 'HIT' : 'MISS').json(page);
  });

  router.get('/api/products/:id', ...hooks, async (req, res) => {
    const id = parseInput(idParam, req.params.id, 'params');
    const { product, hit } = await products.get(id);
    annotateSpan({ 'cloudmart.cache.hit': hit, 'cloudmart.product.id': id });
    res.setHeader('X-Cache', hit ? 'HIT' : 'MISS').json(product);
  });

  return router;
}
