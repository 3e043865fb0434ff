// The Redis connection shared by the rate limiter and the prediction cache. Redis is an optimisation here,
// never a dependency of a prediction: commands fail fast while it is unreachable (no offline queue), the
// callers fall back (rate limit: allow; cache: miss), and ioredis keeps reconnecting in the background.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let healthy = true;
  redis.on('ready', () => {
    if (!healthy) logger.info('redis reachable again');
    healthy = true;
  });
  redis.on('error', (error: Error) => {
    // One line per outage, not per reconnect attempt.
    if (healthy) logger.warn({ err: error.message }, 'redis unreachable: rate limits allow, cache misses, until it is back');
    healthy = false;
  });
  return redis;
}
