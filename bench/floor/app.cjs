'use strict';
/**
 * The floor benchmark's app: Express 5 answering GET /api/products with 20 products from
 * memory, the anchor app, served the way CloudMart serves its own (http.createServer).
 * No database, no cache, no metrics, no logs:
 * what tracing costs per request here is the least it can cost any Express service.
 */
const http = require('node:http');
const express = require('express');

const products = Array.from({ length: 20 }, (_, i) => ({
  id: i + 1,
  sku: `SKU-${String(i + 1).padStart(3, '0')}`,
  name: `Product ${i + 1}`,
  description: 'A product served from memory by the floor benchmark',
  category: 'electronics',
  priceCents: 1000 + i * 125,
  currency: 'USD',
  stock: 100,
}));

const app = express();
app.get('/api/products', (_req, res) => {
  res.json({ data: products });
});

const server = http.createServer(app);
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
// No process.exit: with the server closed the process ends once the tracer's last export is done.
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
