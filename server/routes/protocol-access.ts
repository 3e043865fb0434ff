// Route options of the protocol routes: the same access (API keys, rate limit) as /api/predict, the error
// format the error handler writes for that protocol (server/error-renderers.ts), and what the access adds to
// the OpenAPI document, in the protocol's error shape.
import type { ErrorFormat } from '../error-renderers.js';
import { teiErrorSchema } from '../protocols/tei-schemas.js';
import { v2ErrorSchema } from '../protocols/v2-schemas.js';
import type { RouteAccess } from './access.js';

type ProtocolFormat = Exclude<ErrorFormat, 'service'>;

const KEY_SECURITY: { [scheme: string]: string[] }[] = [{ bearer: [] }, { apiKey: [] }];

const ERROR_SCHEMAS: Record<ProtocolFormat, object> = { tei: teiErrorSchema, v2: v2ErrorSchema };

/**
 * A guarded route's options: `access` (key check, rate limit) spread in as /api/predict does, its error
 * format, and its schema with what the access adds to the OpenAPI document (as server/schemas.ts withAccess
 * does for the service's routes): the key it needs, and the 401 and 429 it may then answer, in the
 * protocol's error shape.
 */
export function guarded<S extends { response: Record<number, unknown> }>(access: RouteAccess, errorFormat: ProtocolFormat, schema: S) {
  const keys = access.onRequest !== undefined;
  const limited = access.config?.rateLimit !== undefined;
  const error = ERROR_SCHEMAS[errorFormat];
  return {
    ...access,
    config: { ...access.config, errorFormat },
    schema: {
      ...schema,
      ...(keys ? { security: KEY_SECURITY } : {}),
      response: { ...schema.response, ...(keys ? { 401: error } : {}), ...(limited ? { 429: error } : {}) },
    },
  };
}

/** An open route's options (health): no key, no rate limit, like /api/health. */
export function open<S>(errorFormat: ProtocolFormat, schema: S) {
  return { config: { errorFormat }, schema };
}
