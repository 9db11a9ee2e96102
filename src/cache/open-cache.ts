import type { Config } from '../config';
import type { Logger } from '../telemetry/logger';
import { redactUrl } from '../telemetry/redact-url';
import type { Cache } from './cache';
import { MemoryCache } from './memory-cache';
import { RedisCache } from './redis-cache';

/** Redis when one is configured, otherwise an in-process LRU. */
export function openCache(config: Pick<Config, 'cache'>, logger: Logger): Cache {
  if (config.cache.kind === 'memory') {
    logger.info({ cache: 'memory', maxEntries: config.cache.maxEntries }, 'cache: in-memory LRU; set REDIS_URL or REDIS_HOST for Redis');
    return new MemoryCache(config.cache.maxEntries);
  }
  logger.info({ cache: 'redis', url: redactUrl(config.cache.url) }, 'cache: Redis');
  return new RedisCache({
    url: config.cache.url,
    commandTimeoutMs: config.cache.commandTimeoutMs,
    keyPrefix: config.cache.keyPrefix,
    onStateChange: (state, err) =>
      state === 'ready' ? logger.info('redis connected') : logger.warn({ err: err?.message }, 'redis unavailable; serving from Postgres until it returns'),
  });
}
