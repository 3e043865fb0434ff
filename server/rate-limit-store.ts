// One rate-limit budget per client across routes. @fastify/rate-limit gives every route that has its own
// `config.rateLimit` a child store with its own counters (a fresh in-memory map, or Redis keys prefixed with
// the route's method and path), so its `groupId` alone does not make routes share a budget: a client could
// spend RATE_LIMIT_MAX on each limited route. This store hands a route that names a `groupId` the parent's
// counters instead of a child's; the plugin appends the groupId to the client's key, so every route of one
// group (present and future) counts against one budget per client. Routes without a groupId keep the
// plugin's per-route counters.
import { createRequire } from 'node:module';
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';

type StoreClass = new (continueExceeding: boolean, exponentialBackoff: boolean, ...rest: unknown[]) => FastifyRateLimitStore;

// The plugin's own stores (in memory; Redis with an atomic Lua script), not re-implemented here. They are
// CommonJS files the package does not export by name, hence require.
const require = createRequire(import.meta.url);
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as StoreClass;
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as StoreClass;

/**
 * The `store` option of @fastify/rate-limit: counters in Redis (shared by replicas) when given, else in
 * memory. `onFailure` hears of each count that failed (Redis unreachable or slow), which the plugin's
 * skipOnError then allows.
 */
export function sharedBudgetStore(redis: Redis | undefined, nameSpace: string, onFailure: () => void): FastifyRateLimitStoreCtor {
  return class SharedBudgetStore implements FastifyRateLimitStore {
    private readonly counters: FastifyRateLimitStore;

    constructor(params: { continueExceeding?: boolean; exponentialBackoff?: boolean }) {
      const continueExceeding = params.continueExceeding ?? false;
      const exponentialBackoff = params.exponentialBackoff ?? false;
      this.counters = redis !== undefined
        ? new RedisStore(continueExceeding, exponentialBackoff, redis, nameSpace)
        : new LocalStore(continueExceeding, exponentialBackoff);
    }

    incr(...[key, callback, timeWindow, max]: Parameters<FastifyRateLimitStore['incr']>): void {
      this.counters.incr(key, (error, result) => {
        if (error) onFailure();
        callback(error, result);
      }, timeWindow, max);
    }

    child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0] & { groupId?: string }): FastifyRateLimitStore {
      return routeOptions.groupId !== undefined ? this : this.counters.child(routeOptions);
    }
  };
}
