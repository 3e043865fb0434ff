// Every error the core can give a caller, in one table: its code, its kind and what it means. The kind is
// what a transport decides on (server/http-errors.ts maps kinds to HTTP statuses, the command line to its
// output lines); how an error is written is the transport's business. Errors raised by the layers below
// (batching/, inference/) are keyed by their classes' own codes.
import { BatcherClosedError, DeadlineExceededError, QueueFullError, RequestAbortedError } from '../batching/errors.js';
import { InferenceFailedError, ModelLoadError, WorkerCrashedError } from '../inference/errors.js';

/**
 * What kind of failure an error is, whatever the transport: the caller's input (`invalid`, `too_large`,
 * `unprocessable`), a state of the service (`conflict`, `overloaded`, `unavailable`, `deadline`), the
 * caller gone (`cancelled`), or a fault of the service (`internal`, whose message a transport never shows).
 */
export type ErrorKind = 'invalid' | 'too_large' | 'unprocessable' | 'conflict' | 'cancelled' | 'overloaded' | 'unavailable' | 'deadline' | 'internal';

export interface CoreErrorEntry {
  kind: ErrorKind;
  description: string;
}

export const CORE_ERRORS = {
  INVALID_TEXT: { kind: 'invalid', description: 'A text is only whitespace, or holds a NUL character or a lone UTF-16 surrogate.' },
  TEXT_TOO_LONG: { kind: 'too_large', description: 'A text is longer than MAX_TEXT_CHARS characters.' },
  TOO_MANY_TEXTS: { kind: 'too_large', description: 'A batch call holds more than MAX_CLIENT_BATCH texts, or, with `explain`, its texts and their leave-one-word-out variants are more than MAX_QUEUE.' },
  TOO_MANY_TOKENS: { kind: 'too_large', description: 'A text has more tokens than the model reads and the call asked not to truncate (TEI `truncate: false`).' },
  TOO_MANY_WORDS: { kind: 'too_large', description: 'A text asked to be explained (`explain: true`) has more words than EXPLAIN_MAX_WORDS.' },
  RELOAD_IN_PROGRESS: { kind: 'conflict', description: 'A model reload or a shadow candidate\'s load is already running; this one was not started.' },
  MODEL_REJECTED: { kind: 'unprocessable', description: 'The model at MODEL_PATH (reload), or the shadow candidate at `model_path`, failed its checks (load, a test prediction, the same label set and head); the old model keeps serving.' },
  [RequestAbortedError.code]: { kind: 'cancelled', description: 'The client closed the connection before inference; nobody reads this answer.' },
  [InferenceFailedError.code]: { kind: 'internal', description: 'ONNX Runtime failed on an accepted batch (a bug or a broken model); logged, with no detail in the response.' },
  [ModelLoadError.code]: { kind: 'internal', description: 'A worker could not load the model (e.g. a replacement worker after a crash, with the model files gone); logged, with no detail in the response.' },
  INTERNAL_ERROR: { kind: 'internal', description: 'Anything unexpected; logged, with no detail in the response.' },
  [QueueFullError.code]: { kind: 'overloaded', description: 'MAX_QUEUE texts are already waiting, or those waiting would keep this request past REQUEST_TIMEOUT_MS at the measured rate; retry after the Retry-After seconds.' },
  [WorkerCrashedError.code]: { kind: 'unavailable', description: 'The worker running this batch died; it is being replaced; retrying is safe.' },
  [BatcherClosedError.code]: { kind: 'unavailable', description: 'The server is draining before exit and takes no new work.' },
  [DeadlineExceededError.code]: { kind: 'deadline', description: 'The request could not be answered within REQUEST_TIMEOUT_MS: it waited past it, or so near it that its batch would end after it.' },
} as const satisfies Record<string, CoreErrorEntry>;

export type CoreErrorCode = keyof typeof CORE_ERRORS;

/** The core's entry for an error's code; undefined when the code is not the core's. */
export function coreEntryFor(code: unknown): CoreErrorEntry | undefined {
  return typeof code === 'string' && Object.hasOwn(CORE_ERRORS, code) ? CORE_ERRORS[code as CoreErrorCode] : undefined;
}

/** An error raised by the core itself, with a code from the table. */
export class CoreError extends Error {
  readonly code: CoreErrorCode;
  readonly kind: ErrorKind;
  constructor(code: CoreErrorCode, message: string) {
    super(message);
    this.name = code;
    this.code = code;
    this.kind = CORE_ERRORS[code].kind;
  }
}

export class InvalidTextError extends CoreError {
  constructor(message: string) { super('INVALID_TEXT', message); }
}

export class TextTooLongError extends CoreError {
  constructor(where: string, length: number, limit: number) {
    super('TEXT_TOO_LONG', `${where} has ${length} characters; the limit is ${limit} (MAX_TEXT_CHARS)`);
  }
}

export class TooManyTextsError extends CoreError {
  constructor(where: string, count: number, limit: number) {
    super('TOO_MANY_TEXTS', `${where} holds ${count} texts; the limit is ${limit} (MAX_CLIENT_BATCH)`);
  }
}

export class TooManyTokensError extends CoreError {
  constructor(where: string, limit: number) {
    super('TOO_MANY_TOKENS', `${where} has more than ${limit} tokens, the most this model reads; allow truncation or send a shorter text`);
  }
}

export const reloadInProgress = () => new CoreError('RELOAD_IN_PROGRESS', 'a model reload or a shadow candidate\'s load is already running');
export const modelRejected = (reason: string) => new CoreError('MODEL_REJECTED', `the new model was refused and the old one keeps serving: ${reason}`);
export const candidateRejected = (reason: string) => new CoreError('MODEL_REJECTED', `the shadow candidate was refused: ${reason}`);
