// What a protected route adds to its options: the API-key check (no hook at all when the route is open)
// and, when on, the rate limit; `errorFormat` says how its errors are written (server/error-renderers.ts).
import type { onRequestHookHandler } from 'fastify';
import type { ErrorFormat } from '../error-renderers.js';

/** The rate-limit group of every route a client key opens: one budget per client across all of them. */
export const CLIENT_BUDGET = 'client';

export interface RouteAccess {
  onRequest?: onRequestHookHandler;
  config?: { rateLimit?: { groupId: string }; errorFormat?: ErrorFormat };
}
