// Route options of the protocol routes: the same access (API keys, rate limit) as /api/predict, plus the
// error format the error handler writes for that protocol (server/error-renderers.ts).
import type { ErrorFormat } from '../error-renderers.js';
import type { RouteAccess } from './access.js';

/** A guarded route: `access` (key check, rate limit) spread in as /api/predict does, with its error format. */
export function guarded(access: RouteAccess, errorFormat: ErrorFormat): RouteAccess {
  return { ...access, config: { ...access.config, errorFormat } };
}

/** An open route (health): no key, no rate limit, like /api/health. */
export function open(errorFormat: ErrorFormat): RouteAccess {
  return { config: { errorFormat } };
}
