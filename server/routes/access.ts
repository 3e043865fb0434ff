// What a protected route adds to its options: the API-key check and, when on, the rate limit.
import type { onRequestHookHandler } from 'fastify';

/** The rate-limit group of every route a client key opens: one budget per client across all of them. */
export const CLIENT_BUDGET = 'client';

export interface RouteAccess {
  onRequest: onRequestHookHandler;
  config?: { rateLimit?: { groupId: string } };
}
