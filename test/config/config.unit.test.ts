import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config';

describe('configuration from the environment', () => {
  test('When nothing is set, then the service runs on embedded Postgres, the memory cache and port 3000', () => {
    const c = loadConfig({});
    assert.equal(c.port, 3000);
    assert.equal(c.database.kind, 'embedded');
    assert.equal(c.cache.kind, 'memory');
    assert.equal(c.service.name, 'cloudmart-backend');
    assert.equal(c.metricsEnabled, true);
  });

  test("When the course's DB_* and REDIS_* variables are set, then they build the URLs", () => {
    const c = loadConfig({ DB_HOST: 'postgres', DB_USER: 'shop', DB_PASSWORD: 'p@ss w', DB_NAME: 'mart', REDIS_HOST: 'redis', REDIS_PORT: '6380' });
    assert.deepEqual(c.database, { kind: 'postgres', connectionString: 'postgres://shop:p%40ss%20w@postgres:5432/mart', poolMax: 10 });
    assert.equal(c.cache.kind === 'redis' && c.cache.url, 'redis://redis:6380');
  });

  test('When DATABASE_URL and REDIS_URL are set, then they win', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u@h/db', DB_HOST: 'ignored', REDIS_URL: 'redis://r:1' });
    assert.equal(c.database.kind === 'postgres' && c.database.connectionString, 'postgres://u@h/db');
    assert.equal(c.cache.kind === 'redis' && c.cache.url, 'redis://r:1');
  });

  test('When a value is bad, then the error names the variable', () => {
    const bad: Record<string, string>[] = [
      { PORT: 'eighty' },
      { PORT: '70000' },
      { DATABASE_URL: 'mysql://x/y' },
      { REDIS_URL: 'not a url' },
      { LOG_LEVEL: 'loud' },
      { METRICS_ENABLED: 'maybe' },
      { GIT_COMMIT_SHA: 'xyz' },
      { CHAOS_ENABLED: 'true' },
      { WEBHOOK_TOKEN: 'too-short' },
    ];
    for (const env of bad) {
      const name = Object.keys(env).at(-1) === 'CHAOS_ENABLED' ? 'CHAOS_TOKEN' : Object.keys(env)[0];
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => err instanceof ConfigError && err.message.includes(`${name}:`),
        JSON.stringify(env),
      );
    }
  });

  test('When CLOUDMART_TUNING is false, then the textbook path runs; anything but a boolean is refused', () => {
    assert.equal(loadConfig({}).tuning, true, 'on by default');
    assert.equal(loadConfig({ CLOUDMART_TUNING: 'false' }).tuning, false);
    assert.throws(
      () => loadConfig({ CLOUDMART_TUNING: 'request-log' }),
      (err: Error) => err instanceof ConfigError && /CLOUDMART_TUNING/.test(err.message),
    );
  });

  test('When a variable is empty, then its default applies', () => {
    assert.equal(loadConfig({ PORT: '' }).port, 3000);
    // Compose passes WEBHOOK_TOKEN through as empty when .env leaves it unset: open, not an error.
    assert.equal(loadConfig({ WEBHOOK_TOKEN: '' }).webhookToken, undefined);
  });
});
