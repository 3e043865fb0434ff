// CORS (CORS_ORIGINS, off by default): lets web apps on other origins call every route of every protocol
// from a browser. @fastify/cors adds the headers in an onRequest hook, so errors, 404s, 405s, shed requests and
// NDJSON streams carry them too, and it answers preflights itself before the API-key check (a browser sends
// no Authorization header on a preflight).
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/** The methods the API's routes take; a preflight for any other is refused by the browser. */
export const CORS_METHODS = ['GET', 'HEAD', 'POST'];

/** Request headers a page may send: the API key (either header), JSON or NDJSON bodies, its own request id. */
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'X-API-Key', 'X-Request-ID'];

/**
 * Response headers a page may read beyond the CORS-safelisted ones: the timings, model version and cache
 * state of predictions, the request id, and what a client needs to recover (Retry-After, the rate limit's,
 * WWW-Authenticate, a 405's Allow).
 */
export const CORS_EXPOSED_HEADERS = [
  'x-queue-time', 'x-inference-time', 'x-total-time', 'x-model-version', 'x-cache', 'x-request-id',
  'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'www-authenticate', 'allow',
];

/** Seconds a browser may reuse a preflight's answer: Chromium caps it at 7,200 (Firefox at 86,400). */
export const CORS_MAX_AGE_S = 7200;

export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  await app.register(cors, {
    // A list is matched exactly against the request's Origin and echoed (with Vary: Origin); '*' allows any.
    origin: origins.includes('*') ? '*' : [...origins],
    methods: CORS_METHODS,
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: CORS_MAX_AGE_S,
    // API keys travel in a header the page sets, never in cookies: no credentialed requests.
    credentials: false,
    // Every OPTIONS is answered as a preflight, on any path: a preflight of a mistyped path then lets the
    // real request through to its readable JSON 404, and an OPTIONS without Origin gets 204 rather than
    // the plugin's plain-text 400.
    strictPreflight: false,
  });
}
