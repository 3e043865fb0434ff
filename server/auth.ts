// API keys. Keys are compared as sha256 digests with crypto.timingSafeEqual against every configured key
// (no early exit), so neither a key's content nor its length leaks through timing. A key is never logged:
// requests carry only a short digest prefix (`request.clientId`), which rate limits and logs use, and the
// key's name (`request.clientName`), which the per-key usage metrics use.
//
// A key may be given a name by writing it before the key, with a space: "acme sk-live-1". A key never holds
// whitespace (a Bearer token cannot), so an entry without a space is a key as it always was; keys that share
// a name (a client's old and new key while it rotates them) count as one client. An unnamed key is counted
// under its id.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { forbidden, unauthorized } from './http-errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** A non-secret id of the API key that authenticated the request (16 hex digits of its sha256). */
    clientId: string | undefined;
    /** The name of that key, else its id. */
    clientName: string | undefined;
  }
}

/** A key's name: what the usage metrics show of it. */
const KEY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export interface KeyEntry {
  key: string;
  name: string | undefined;
}

/** "name key" (a name, a space, the key) or "key". */
export function parseKeyEntry(entry: string): KeyEntry {
  const parts = entry.trim().split(/\s+/);
  if (parts.length === 2 && KEY_NAME.test(parts[0]!)) return { name: parts[0], key: parts[1]! };
  return { key: entry, name: undefined };
}

const REALM = 'Bearer realm="tweet-sentiment"';

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

export class KeyRing {
  readonly #keys: { digest: Buffer; id: string; name: string }[];

  /** `entries` as configured: "key" or "name key". */
  constructor(entries: readonly string[]) {
    this.#keys = entries.map((entry) => {
      const { key, name } = parseKeyEntry(entry);
      const keyDigest = digest(key);
      const id = keyDigest.toString('hex').slice(0, 16);
      return { digest: keyDigest, id, name: name ?? id };
    });
  }

  get size(): number {
    return this.#keys.length;
  }

  /** The id and name of the matching key, or undefined. Constant time in the presented key. */
  match(presented: string): { id: string; name: string } | undefined {
    const candidate = digest(presented);
    let found: { id: string; name: string } | undefined;
    for (const known of this.#keys) {
      if (timingSafeEqual(known.digest, candidate)) found = known;
    }
    return found === undefined ? undefined : { id: found.id, name: found.name };
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
      const match = ring.match(key);
      if (match !== undefined) {
        request.clientId = match.id;
        request.clientName = match.name;
        return done();
      }
    }
    if (known.some((ring) => ring.match(key) !== undefined)) return done(forbidden(`this key may not use the ${purpose}`));
    void reply.header('www-authenticate', `${REALM}, error="invalid_token"`);
    return done(unauthorized('the API key is not valid'));
  };
}
