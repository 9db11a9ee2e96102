import request from 'supertest';
import { startTestApp, type TestApp, type TestAppOptions } from '../helpers/app';
import { sampleFrom } from '../helpers/metrics-text';

export const TOKEN = 'test-chaos-token-0123456789';
export const AUTH = { Authorization: `Bearer ${TOKEN}` };

/** The service with fault injection switched on (or off) by its config, as in the lab. */
export async function startChaosApp(opts: { enabled?: boolean } & Pick<TestAppOptions, 'cache'> = {}): Promise<TestApp> {
  return startTestApp({ cache: opts.cache, env: { CHAOS_ENABLED: String(opts.enabled ?? true), CHAOS_TOKEN: TOKEN } });
}

/** One sample of the service's /metrics, as Prometheus would scrape it; undefined when absent. */
export async function metricValue(t: TestApp, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  return sampleFrom((await request(t.app).get('/metrics').expect(200)).text, name, labels);
}
