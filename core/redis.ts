// The Redis connection shared by the rate limiter and the prediction cache. Redis is an optimisation here,
// never a dependency of a prediction: commands fail fast while it is unreachable (no offline queue), the
// callers fall back (rate limit: allow; cache: miss), and ioredis keeps reconnecting in the background.
import { once } from 'node:events';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

const CONNECT_TIMEOUT_MS = 2000;

export function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: CONNECT_TIMEOUT_MS,
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

/**
 * Resolves once the connection is ready, or at its first failure, or after `timeoutMs`; never rejects. A
 * replica waits for this before it serves: with no offline queue, a request that came while the connection
 * was still opening would skip the shared rate limit and the shared cache.
 */
export async function redisReady(redis: Redis, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  if (redis.status === 'ready') return;
  // events.once rejects on an 'error' event and on the abort; both mean "serve without it" here.
  await once(redis, 'ready', { signal: AbortSignal.timeout(timeoutMs) }).catch(() => undefined);
}
