// Every error a client can receive, in one table: its code, its HTTP status and what it means. The error
// handler (server/error-handler.ts) is the only place that turns an error into a response, and the README's
// error table is checked against this one by test/errors.test.ts.
import createError from '@fastify/error';

export interface ErrorEntry {
  status: number;
  description: string;
}

/**
 * Codes raised by this service, here or in the layers below (batching/, inference/), which know nothing of
 * HTTP and carry only the code. Fastify's own codes (FST_ERR_*) keep the status Fastify gives them.
 */
export const ERROR_TABLE = {
  FST_ERR_VALIDATION: { status: 400, description: 'The body, query or headers do not match the route schema (wrong type, missing or unknown field, empty text, too many texts).' },
  INVALID_TEXT: { status: 400, description: 'A text is only whitespace, or holds a NUL character or a lone UTF-16 surrogate.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, description: 'The body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, description: 'The body is empty but the Content-Type is JSON.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, description: 'The Content-Type is not application/json.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, description: 'The body is larger than BODY_LIMIT bytes.' },
  TEXT_TOO_LONG: { status: 413, description: 'A text is longer than MAX_TEXT_CHARS characters.' },
  TOO_MANY_TEXTS: { status: 413, description: 'A batch call holds more than MAX_CLIENT_BATCH texts.' },
  UNAUTHORIZED: { status: 401, description: 'API keys are on and the request has no valid key (`Authorization: Bearer <key>` or `X-API-Key`); sent with WWW-Authenticate.' },
  FORBIDDEN: { status: 403, description: 'The admin API needs an admin key (ADMIN_API_KEYS), or is off because none is set.' },
  NOT_FOUND: { status: 404, description: 'No route has this method and path.' },
  RELOAD_IN_PROGRESS: { status: 409, description: 'A model reload is already running; this one was not started.' },
  MODEL_REJECTED: { status: 422, description: 'The model at MODEL_PATH failed its checks (load, a test prediction, the same label set); the old model keeps serving.' },
  RATE_LIMITED: { status: 429, description: 'This client (API key, else IP) sent more than RATE_LIMIT_MAX requests in RATE_LIMIT_WINDOW ms; see Retry-After and x-ratelimit-*. NGINX sends the same code for its per-IP limit_req.' },
  REQUEST_ABORTED: { status: 499, description: 'The client closed the connection before inference; nobody reads this answer.' },
  INFERENCE_FAILED: { status: 500, description: 'ONNX Runtime failed on an accepted batch (a bug or a broken model); logged.' },
  INTERNAL_ERROR: { status: 500, description: 'Anything unexpected; logged, with no detail in the response.' },
  UPSTREAM_UNAVAILABLE: { status: 502, description: 'Sent by NGINX: no API replica could be reached (after retrying the others).' },
  QUEUE_FULL: { status: 503, description: 'MAX_QUEUE texts are already waiting; retry after the Retry-After seconds.' },
  WORKER_CRASHED: { status: 503, description: 'The worker running this batch died; it is being replaced; retrying is safe.' },
  SHUTTING_DOWN: { status: 503, description: 'The server is draining before exit and takes no new work.' },
  OVERLOADED: { status: 503, description: 'The process is under pressure (event-loop lag, heap or RSS over their limits); retry after Retry-After.' },
  NOT_READY: { status: 503, description: 'The model is not loaded yet, or the queue is saturated (/api/ready only).' },
  DEADLINE_EXCEEDED: { status: 504, description: 'The request waited longer than REQUEST_TIMEOUT_MS before inference.' },
  UPSTREAM_TIMEOUT: { status: 504, description: 'Sent by NGINX: the replica did not answer within proxy_read_timeout.' },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERROR_TABLE;

export const InvalidTextError = createError<[string]>('INVALID_TEXT', '%s', ERROR_TABLE.INVALID_TEXT.status);
export const TextTooLongError = createError<[string, number, number]>('TEXT_TOO_LONG', '%s has %d characters; the limit is %d (MAX_TEXT_CHARS)', ERROR_TABLE.TEXT_TOO_LONG.status);
export const TooManyTextsError = createError<[number, number]>('TOO_MANY_TEXTS', 'texts holds %d texts; the limit is %d (MAX_CLIENT_BATCH)', ERROR_TABLE.TOO_MANY_TEXTS.status);
export const NotFoundError = createError<[string, string]>('NOT_FOUND', 'Route %s %s not found', ERROR_TABLE.NOT_FOUND.status);
export const UnauthorizedError = createError<[string]>('UNAUTHORIZED', '%s', ERROR_TABLE.UNAUTHORIZED.status);
export const ForbiddenError = createError<[string]>('FORBIDDEN', '%s', ERROR_TABLE.FORBIDDEN.status);
export const RateLimitedError = createError<[number, number]>('RATE_LIMITED', 'more than %d requests in %d ms from this client; retry later', ERROR_TABLE.RATE_LIMITED.status);
export const OverloadedError = createError<[string]>('OVERLOADED', 'the server is overloaded (%s); retry later', ERROR_TABLE.OVERLOADED.status);
export const ReloadInProgressError = createError('RELOAD_IN_PROGRESS', 'a model reload is already running', ERROR_TABLE.RELOAD_IN_PROGRESS.status);
export const ModelRejectedError = createError<[string]>('MODEL_REJECTED', 'the new model was refused and the old one keeps serving: %s', ERROR_TABLE.MODEL_REJECTED.status);

/** The HTTP status for an error's code; undefined when the code is not ours (then Fastify's statusCode, else 500). */
export function statusForCode(code: unknown): number | undefined {
  return typeof code === 'string' && code in ERROR_TABLE ? ERROR_TABLE[code as ErrorCode].status : undefined;
}
