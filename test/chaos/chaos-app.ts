import request from 'supertest';
import { startTestApp, type TestApp, type TestAppOptions } from '../helpers/app';
import { sampleFrom } from '../helpers/metrics-text';

export const TOKEN = 'test-chaos-token-0123456789';
export const AUTH = { Authorization: `Bearer ${TOKEN}` };

export interface ChaosAppOptions extends Pick<TestAppOptions, 'cache' | 'database'> {
  enabled?: boolean;
  /** REDIS_KEY_PREFIX: apps given the same one are replicas of one service; by default each app has its own. */
  keyPrefix?: string;
}

/** The service with fault injection switched on (or off) by its config, as in the lab. */
export async function startChaosApp(opts: ChaosAppOptions = {}): Promise<TestApp> {
  return startTestApp({
    cache: opts.cache,
    database: opts.database,
    env: { CHAOS_ENABLED: String(opts.enabled ?? true), CHAOS_TOKEN: TOKEN, ...(opts.keyPrefix ? { REDIS_KEY_PREFIX: opts.keyPrefix } : {}) },
  });
}

/** One sample of the service's /metrics, as Prometheus would scrape it; undefined when absent. */
export async function metricValue(t: TestApp, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  return sampleFrom((await request(t.app).get('/metrics').expect(200)).text, name, labels);
}
