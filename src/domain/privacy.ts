import type { Order, OrderPage } from './types';

/**
 * `student@example.com` → `s***@example.com`. Enough for a customer to recognise their own
 * order in a list, not enough for a stranger to harvest addresses. The service has no customer
 * accounts and no admin token for reads, so every reader of an order gets the masked address;
 * only the POST that placed the order echoes back the address its client sent.
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

export function maskOrder(order: Order): Order {
  return { ...order, customerEmail: maskEmail(order.customerEmail) };
}

export function maskOrderPage(page: OrderPage): OrderPage {
  return { ...page, data: page.data.map(maskOrder) };
}
