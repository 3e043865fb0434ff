// API keys. Keys are compared as sha256 digests with crypto.timingSafeEqual against every configured key
// (no early exit), so neither a key's content nor its length leaks through timing. A key is never logged:
// requests carry only a short digest prefix (`request.clientId`), which rate limits and logs use.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { forbidden, unauthorized } from './http-errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** A non-secret id of the API key that authenticated the request (16 hex digits of its sha256). */
    clientId: string | undefined;
  }
}

const REALM = 'Bearer realm="tweet-sentiment"';

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

export class KeyRing {
  readonly #digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.#digests = keys.map(digest);
  }

  get size(): number {
    return this.#digests.length;
  }

  /** The id of the matching key, or undefined. Constant time in the presented key. */
  match(presented: string): string | undefined {
    const candidate = digest(presented);
    let found: Buffer | undefined;
    for (const known of this.#digests) {
      if (timingSafeEqual(known, candidate)) found = known;
    }
    return found?.toString('hex').slice(0, 16);
  }
}

/** The key a request presents: `Authorization: Bearer <key>`, else `X-API-Key`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

export interface RequireKeyOptions {
  /** No key needed at all (client routes while API_KEYS is empty). */
  open: boolean;
  /** Named in messages: "prediction API", "admin API". */
  purpose: string;
  /** Keys that are valid but not allowed here (client keys on an admin route): 403 instead of 401. */
  known?: KeyRing[];
}

/**
 * A hook admitting requests whose key is in one of `rings` (client routes accept client and admin keys), or
 * undefined when the route is open: then no hook runs at all. A callback hook, not an async one: no promise
 * per request.
 */
export function requireKey(rings: KeyRing[], { open, purpose, known = [] }: RequireKeyOptions): onRequestHookHandler | undefined {
  if (open) return undefined;
  const configured = rings.some((ring) => ring.size > 0);
  return (request, reply, done) => {
    if (!configured) return done(forbidden(`the ${purpose} is off: set ADMIN_API_KEYS to use it`));
    const key = presentedKey(request);
    if (key === undefined) {
      void reply.header('www-authenticate', REALM);
      return done(unauthorized('an API key is required: send Authorization: Bearer <key> or X-API-Key'));
    }
    for (const ring of rings) {
      const id = ring.match(key);
      if (id !== undefined) {
        request.clientId = id;
        return done();
      }
    }
    if (known.some((ring) => ring.match(key) !== undefined)) return done(forbidden(`this key may not use the ${purpose}`));
    void reply.header('www-authenticate', `${REALM}, error="invalid_token"`);
    return done(unauthorized('the API key is not valid'));
  };
}
