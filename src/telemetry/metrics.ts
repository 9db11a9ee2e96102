import client, { Counter, Gauge, Histogram, Registry, type OpenMetricsContentType } from 'prom-client';

/**
 * The registry /metrics serves, and the service's core metrics (HTTP, orders, cache, pool,
 * build). Every metric is defined the same way: by a factory in the metrics.ts of the module
 * that records it, which creates it on this registry and returns what callers record through
 * (this file for the core; src/chaos/, src/dora/ and src/alerting/ have their own). The names
 * are contracts: the Grafana dashboards and Prometheus rules in docker/ query them.
 */

// Seconds: the bucket boundaries OpenTelemetry's HTTP semantic conventions advise for
// http.server.request.duration, so these buckets and an OTLP export of the same metric agree.
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** The one registry every metrics factory creates its metrics on. */
export type MetricsRegistry = Registry<OpenMetricsContentType>;

export type HttpLabels = 'method' | 'route' | 'status_code';

export interface Metrics {
  readonly registry: MetricsRegistry;
  readonly httpDuration: Histogram<HttpLabels>;
  readonly httpRequests: Counter<HttpLabels>;
  readonly httpInFlight: Gauge;
  readonly ordersCreated: Counter;
  readonly ordersFailed: Counter<'reason'>;
  readonly orderValue: Histogram;
  readonly cacheRequests: Counter<'result'>;
  readonly dbPoolConnections: Gauge<'state'>;
  readonly dbPoolWaiting: Gauge;
  readonly redisConnected: Gauge;
  readonly buildInfo: Gauge<'service' | 'version' | 'commit'>;
}

export function createMetrics(): Metrics {
  // Exemplars exist only in OpenMetrics; exposition.ts also serves the classic text
  // format from this registry to scrapers that do not ask for OpenMetrics.
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const registers = [registry];
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });

  return {
    registry,
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Duration of HTTP requests by route template, in seconds',
      labelNames: ['method', 'route', 'status_code'],
      buckets: LATENCY_BUCKETS,
      enableExemplars: true,
      registers,
    }),
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by route template and status code',
      labelNames: ['method', 'route', 'status_code'],
      registers,
    }),
    httpInFlight: new Gauge({
      name: 'http_requests_in_flight',
      help: 'HTTP requests being served right now',
      registers,
    }),
    ordersCreated: new Counter({
      name: 'cloudmart_orders_created_total',
      help: 'Orders created',
      registers,
    }),
    ordersFailed: new Counter({
      name: 'cloudmart_orders_failed_total',
      help: 'Orders refused or failed, by reason',
      labelNames: ['reason'],
      registers,
    }),
    orderValue: new Histogram({
      name: 'cloudmart_order_value_cents',
      help: 'Total value of created orders, in cents',
      buckets: [500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000],
      registers,
    }),
    cacheRequests: new Counter({
      name: 'cloudmart_cache_requests_total',
      help: 'Cache lookups by result (hit, miss, error)',
      labelNames: ['result'],
      registers,
    }),
    dbPoolConnections: new Gauge({
      name: 'cloudmart_db_pool_connections',
      help: 'Postgres pool connections by state (idle, in_use); their sum is the open connections',
      labelNames: ['state'],
      registers,
    }),
    dbPoolWaiting: new Gauge({
      name: 'cloudmart_db_pool_waiting_clients',
      help: 'Requests waiting for a Postgres pool connection',
      registers,
    }),
    redisConnected: new Gauge({
      name: 'cloudmart_redis_connected',
      help: '1 when the Redis cache connection is ready, 0 otherwise (absent with the in-memory cache)',
      registers,
    }),
    buildInfo: new Gauge({
      name: 'cloudmart_build_info',
      help: 'Always 1; labels carry the service name, running version and commit',
      labelNames: ['service', 'version', 'commit'],
      registers,
    }),
  };
}
