// Every error a client of the HTTP server can receive, with its status: the core's errors by their kind
// (core/errors.ts), and the codes only HTTP has (Fastify's own, keys and limits, routes, protocol shapes,
// NGINX's). The README's error table is rendered from this list (server/docs-tables.ts).
import { CORE_ERRORS, coreEntryFor, type ErrorKind } from '../core/errors.js';

/** The HTTP status of each kind of core error. */
export const KIND_STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  too_large: 413,
  unprocessable: 422,
  conflict: 409,
  cancelled: 499,
  overloaded: 503,
  unavailable: 503,
  deadline: 504,
  internal: 500,
};

interface HttpErrorEntry {
  status: number;
  description: string;
}

/** Codes that only the HTTP server (or NGINX in front of it) sends. */
export const HTTP_ERRORS = {
  FST_ERR_VALIDATION: { status: 400, description: 'The body, query or headers do not match the route schema (wrong type, missing or unknown field, empty text); the message names the field.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, description: 'The body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, description: 'The body is empty but the Content-Type is JSON.' },
  INVALID_TENSOR: { status: 400, description: 'Open Inference Protocol (V2): the input tensor is not the model\'s (name `text`, datatype BYTES, shape [n] or [n, 1], n strings), an output or a parameter is unknown.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, description: 'The Content-Type is not application/json.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, description: 'The body is larger than BODY_LIMIT bytes.' },
  UNAUTHORIZED: { status: 401, description: 'API keys are on and the request has no valid key (`Authorization: Bearer <key>` or `X-API-Key`); sent with WWW-Authenticate.' },
  FORBIDDEN: { status: 403, description: 'The admin API needs an admin key (ADMIN_API_KEYS), or is off because none is set.' },
  NOT_FOUND: { status: 404, description: 'No route has this path (a known path asked with another method gets 405).' },
  METHOD_NOT_ALLOWED: { status: 405, description: 'The path exists but does not take this method; the Allow header lists the ones it takes.' },
  MODEL_NOT_FOUND: { status: 404, description: 'Open Inference Protocol (V2): no model is served under this name (the model\'s name or `sentiment`) or version (the model file\'s short sha256).' },
  UNSUPPORTED_INPUT: { status: 422, description: 'TEI: the input is well-formed but not one this model reads (a pair of texts, for cross-encoders; a list that is neither a pair nor a batch of one-text lists; a prompt_name).' },
  RATE_LIMITED: { status: 429, description: 'This client (API key, else IP) sent more than RATE_LIMIT_MAX requests in RATE_LIMIT_WINDOW ms; see Retry-After and x-ratelimit-*. NGINX sends the same code for its per-IP limit_req.' },
  UPSTREAM_UNAVAILABLE: { status: 502, description: 'Sent by NGINX: no API replica could be reached (after retrying the others).' },
  OVERLOADED: { status: 503, description: 'The process is under pressure (event-loop lag, heap or RSS over their limits); retry after Retry-After.' },
  NOT_READY: { status: 503, description: 'The model is not loaded yet, or the queue is saturated (/api/ready, TEI /health).' },
  UPSTREAM_TIMEOUT: { status: 504, description: 'Sent by NGINX: the replica did not answer within proxy_read_timeout.' },
} as const satisfies Record<string, HttpErrorEntry>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** Every code a client may meet, with its status and meaning, by status. */
export function errorEntries(): ({ code: string } & HttpErrorEntry)[] {
  const core = Object.entries(CORE_ERRORS).map(([code, entry]) => ({ code, status: KIND_STATUS[entry.kind], description: entry.description }));
  const http = Object.entries(HTTP_ERRORS).map(([code, entry]) => ({ code, ...entry }));
  return [...core, ...http].sort((a, b) => a.status - b.status);
}

/** The status and meaning of a code of ours (the core's or the server's); undefined for any other. */
export function entryFor(code: unknown): (HttpErrorEntry & { kind?: ErrorKind }) | undefined {
  const core = coreEntryFor(code);
  if (core !== undefined) return { status: KIND_STATUS[core.kind], description: core.description, kind: core.kind };
  return typeof code === 'string' && Object.hasOwn(HTTP_ERRORS, code) ? HTTP_ERRORS[code as HttpErrorCode] : undefined;
}

/** An error only HTTP has, with its code's status. */
export class HttpError extends Error {
  readonly code: HttpErrorCode;
  readonly statusCode: number;
  constructor(code: HttpErrorCode, message: string, readonly retryAfterSeconds?: number) {
    super(message);
    this.name = code;
    this.code = code;
    this.statusCode = HTTP_ERRORS[code].status;
  }
}

export const notFound = (method: string, path: string) => new HttpError('NOT_FOUND', `Route ${method} ${path} not found`);
export const unauthorized = (message: string) => new HttpError('UNAUTHORIZED', message);
export const forbidden = (message: string) => new HttpError('FORBIDDEN', message);
export const rateLimited = (max: number, windowMs: number, retryAfterSeconds?: number) =>
  new HttpError('RATE_LIMITED', `more than ${max} requests in ${windowMs} ms from this client; retry later`, retryAfterSeconds);
export const overloaded = (reason: string) => new HttpError('OVERLOADED', `the server is overloaded (${reason}); retry later`);
