export interface Product {
  id: number;
  sku: string;
  name: string;
  description: string;
  category: string;
  /** Decimal string, e.g. "24.99"; priceCents is the exact integer. */
  price: string;
  priceCents: number;
  currency: 'USD';
  stock: number;
}

export interface ProductPage {
  data: Product[];
  page: { limit: number; offset: number; total: number; nextCursor: string | null };
}

export interface OrderLine {
  productId: number;
  name: string;
  quantity: number;
  unitPrice: string;
  unitPriceCents: number;
  lineTotal: string;
  lineTotalCents: number;
}

export type OrderStatus = 'created' | 'cancelled';

export interface Order {
  id: number;
  status: OrderStatus;
  customerEmail: string;
  items: OrderLine[];
  total: string;
  totalCents: number;
  currency: 'USD';
  createdAt: string;
  cancelledAt: string | null;
}

export interface OrderPage {
  data: Order[];
  page: { limit: number; offset: number; total: number };
}

/** What the domain reports as it works; app.ts turns it into metrics and span attributes. */
export interface DomainEvents {
  cacheResult(result: 'hit' | 'miss' | 'error'): void;
  orderCreated(order: Order): void;
  orderFailed(reason: string): void;
}
