// What a protected route adds to its options: the API-key check and, when on, the rate limit.
import type { onRequestHookHandler } from 'fastify';

export interface RouteAccess {
  onRequest: onRequestHookHandler;
  config?: { rateLimit?: Record<string, never> };
}
