import { Router, type RequestHandler } from 'express';
import type { OrderService } from '../../domain/orders';
import { maskOrder, maskOrderPage } from '../../domain/privacy';
import { cancelRequest, idempotencyKey, idParam, orderListQuery, orderRequest, type OrderRequest } from '../../domain/schemas';
import type { DomainEvents } from '../../domain/types';
import { annotateSpan } from '../../telemetry/tracer';
import { BODY_LIMIT, jsonBody } from '../json-body';
import { parseInput } from '../validate';

/** Runs `handler` only when the request carries a body (the check type-is's hasBody makes). */
function whenBodySent(handler: RequestHandler): RequestHandler {
  return (req, res, next) => {
    const length = req.headers['content-length'];
    const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    if (hasBody) handler(req, res, next);
    else next();
  };
}

/** `hooks` run ahead of each handler, once Express has matched the route. */
export function orderRoutes(orders: OrderService, events: DomainEvents, hooks: RequestHandler[] = []): Router {
  const router = Router();
  // Parsed inside the route, so even a malformed body is counted under its route template.
  const json = jsonBody(BODY_LIMIT);

  router.post('/api/orders', ...hooks, ...json, async (req, res) => {
    let body: OrderRequest;
    let key: string | undefined;
    try {
      key = req.get('Idempotency-Key') === undefined ? undefined : parseInput(idempotencyKey, req.get('Idempotency-Key'), 'header');
      body = parseInput(orderRequest, req.body, 'body');
    } catch (err) {
      events.orderFailed('validation_failed');
      throw err;
    }
    const { order, replayed } = await orders.place(body, key);
    annotateSpan({
      'cloudmart.order.id': order.id,
      'cloudmart.order.item_count': order.items.length,
      'cloudmart.order.replayed': replayed,
    });
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(201).location(`/api/orders/${order.id}`).json(order);
  });

  router.get('/api/orders', ...hooks, async (req, res) => {
    const q = parseInput(orderListQuery, req.query, 'query');
    res.json(maskOrderPage(await orders.list(q.limit ?? 20, q.offset ?? 0)));
  });

  router.get('/api/orders/:id', ...hooks, async (req, res) => {
    res.json(maskOrder(await orders.get(parseInput(idParam, req.params.id, 'params'))));
  });

  // The proof of ownership comes in a JSON body; a cancel sent without any body is parsed as {}
  // (and so refused as 404 with the rest), not as a 415 that would differ from a wrong proof.
  router.post('/api/orders/:id/cancel', ...hooks, ...json.map(whenBodySent), async (req, res) => {
    const id = parseInput(idParam, req.params.id, 'params');
    annotateSpan({ 'cloudmart.order.id': id });
    const proof = parseInput(cancelRequest, req.body ?? {}, 'body');
    res.json(maskOrder(await orders.cancel(id, proof.customerEmail)));
  });

  return router;
}
