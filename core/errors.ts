// Every error a client can receive, in one table: its code, its status, whether retrying the same request
// can succeed, and what it means. The status is HTTP's, which every protocol here speaks; how an error is
// written (the service's JSON, TEI's, V2's) is the transport's business (server/error-renderers.ts). The
// README's error table is generated from this one and checked by test/integration/docs.test.ts.

export interface ErrorEntry {
  status: number;
  /** The same request may succeed later (after Retry-After): overload, shutdown, a crashed worker. */
  retryable: boolean;
  description: string;
}

/**
 * Codes raised by this service, here or in the layers below (batching/, inference/), which carry only the
 * code. Fastify's own codes (FST_ERR_*) are listed for the ones a client meets.
 */
export const ERROR_TABLE = {
  FST_ERR_VALIDATION: { status: 400, retryable: false, description: 'The body, query or headers do not match the route schema (wrong type, missing or unknown field, empty text); the message names the field.' },
  INVALID_TEXT: { status: 400, retryable: false, description: 'A text is only whitespace, or holds a NUL character or a lone UTF-16 surrogate.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, retryable: false, description: 'The body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, retryable: false, description: 'The body is empty but the Content-Type is JSON.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, retryable: false, description: 'The Content-Type is not application/json.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, retryable: false, description: 'The body is larger than BODY_LIMIT bytes.' },
  TEXT_TOO_LONG: { status: 413, retryable: false, description: 'A text is longer than MAX_TEXT_CHARS characters.' },
  TOO_MANY_TEXTS: { status: 413, retryable: false, description: 'A batch call holds more than MAX_CLIENT_BATCH texts.' },
  TOO_MANY_TOKENS: { status: 413, retryable: false, description: 'A text has more tokens than the model reads and the call asked not to truncate (TEI `truncate: false`).' },
  UNAUTHORIZED: { status: 401, retryable: false, description: 'API keys are on and the request has no valid key (`Authorization: Bearer <key>` or `X-API-Key`); sent with WWW-Authenticate.' },
  FORBIDDEN: { status: 403, retryable: false, description: 'The admin API needs an admin key (ADMIN_API_KEYS), or is off because none is set.' },
  INVALID_TENSOR: { status: 400, retryable: false, description: 'Open Inference Protocol (V2): the input tensor is not the model\'s (name `text`, datatype BYTES, shape [n] or [n, 1], n strings), an output or a parameter is unknown.' },
  NOT_FOUND: { status: 404, retryable: false, description: 'No route has this method and path.' },
  MODEL_NOT_FOUND: { status: 404, retryable: false, description: 'Open Inference Protocol (V2): no model is served under this name (the model\'s name or `sentiment`) or version (the model file\'s short sha256).' },
  RELOAD_IN_PROGRESS: { status: 409, retryable: false, description: 'A model reload is already running; this one was not started.' },
  UNSUPPORTED_INPUT: { status: 422, retryable: false, description: 'TEI: the input is well-formed but not one this model reads (a pair of texts, for cross-encoders; a list that is neither a pair nor a batch of one-text lists; a prompt_name).' },
  MODEL_REJECTED: { status: 422, retryable: false, description: 'The model at MODEL_PATH failed its checks (load, a test prediction, the same label set); the old model keeps serving.' },
  RATE_LIMITED: { status: 429, retryable: true, description: 'This client (API key, else IP) sent more than RATE_LIMIT_MAX requests in RATE_LIMIT_WINDOW ms; see Retry-After and x-ratelimit-*. NGINX sends the same code for its per-IP limit_req.' },
  REQUEST_ABORTED: { status: 499, retryable: true, description: 'The client closed the connection before inference; nobody reads this answer.' },
  INFERENCE_FAILED: { status: 500, retryable: false, description: 'ONNX Runtime failed on an accepted batch (a bug or a broken model); logged, with no detail in the response.' },
  MODEL_LOAD_FAILED: { status: 500, retryable: false, description: 'A worker could not load the model (e.g. a replacement worker after a crash, with the model files gone); logged, with no detail in the response.' },
  INTERNAL_ERROR: { status: 500, retryable: false, description: 'Anything unexpected; logged, with no detail in the response.' },
  UPSTREAM_UNAVAILABLE: { status: 502, retryable: true, description: 'Sent by NGINX: no API replica could be reached (after retrying the others).' },
  QUEUE_FULL: { status: 503, retryable: true, description: 'MAX_QUEUE texts are already waiting, or those waiting would keep this request past REQUEST_TIMEOUT_MS at the measured rate; retry after the Retry-After seconds.' },
  WORKER_CRASHED: { status: 503, retryable: true, description: 'The worker running this batch died; it is being replaced; retrying is safe.' },
  SHUTTING_DOWN: { status: 503, retryable: true, description: 'The server is draining before exit and takes no new work.' },
  OVERLOADED: { status: 503, retryable: true, description: 'The process is under pressure (event-loop lag, heap or RSS over their limits); retry after Retry-After.' },
  NOT_READY: { status: 503, retryable: true, description: 'The model is not loaded yet, or the queue is saturated (/api/ready, TEI /health).' },
  DEADLINE_EXCEEDED: { status: 504, retryable: true, description: 'The request could not be answered within REQUEST_TIMEOUT_MS: it waited past it, or so near it that its batch would end after it.' },
  UPSTREAM_TIMEOUT: { status: 504, retryable: true, description: 'Sent by NGINX: the replica did not answer within proxy_read_timeout.' },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERROR_TABLE;

/** An error with a code from the table; its status comes from the table. */
export class ServiceError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  constructor(code: ErrorCode, message: string, readonly retryAfterSeconds?: number) {
    super(message);
    this.name = code;
    this.code = code;
    this.statusCode = ERROR_TABLE[code].status;
  }
}

export class InvalidTextError extends ServiceError {
  constructor(message: string) { super('INVALID_TEXT', message); }
}

export class TextTooLongError extends ServiceError {
  constructor(where: string, length: number, limit: number) {
    super('TEXT_TOO_LONG', `${where} has ${length} characters; the limit is ${limit} (MAX_TEXT_CHARS)`);
  }
}

export class TooManyTextsError extends ServiceError {
  constructor(where: string, count: number, limit: number) {
    super('TOO_MANY_TEXTS', `${where} holds ${count} texts; the limit is ${limit} (MAX_CLIENT_BATCH)`);
  }
}

export class TooManyTokensError extends ServiceError {
  constructor(where: string, limit: number) {
    super('TOO_MANY_TOKENS', `${where} has more than ${limit} tokens, the most this model reads; allow truncation or send a shorter text`);
  }
}

export const notFound = (method: string, path: string) => new ServiceError('NOT_FOUND', `Route ${method} ${path} not found`);
export const unauthorized = (message: string) => new ServiceError('UNAUTHORIZED', message);
export const forbidden = (message: string) => new ServiceError('FORBIDDEN', message);
export const rateLimited = (max: number, windowMs: number, retryAfterSeconds?: number) =>
  new ServiceError('RATE_LIMITED', `more than ${max} requests in ${windowMs} ms from this client; retry later`, retryAfterSeconds);
export const overloaded = (reason: string) => new ServiceError('OVERLOADED', `the server is overloaded (${reason}); retry later`);
export const reloadInProgress = () => new ServiceError('RELOAD_IN_PROGRESS', 'a model reload is already running');
export const modelRejected = (reason: string) => new ServiceError('MODEL_REJECTED', `the new model was refused and the old one keeps serving: ${reason}`);

/** The table entry for an error's code; undefined when the code is not ours. */
export function entryFor(code: unknown): ErrorEntry | undefined {
  return typeof code === 'string' && Object.hasOwn(ERROR_TABLE, code) ? ERROR_TABLE[code as ErrorCode] : undefined;
}
