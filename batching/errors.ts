// Why the batcher refused or dropped a request. Each error class carries a stable `code` (also on the class,
// so that the core's error table is keyed by the classes themselves, not by strings that could drift).
/** 'sibling_failed': dropped because another text of the same call failed, which fails the whole call. */
export type RejectionReason = 'queue_full' | 'deadline' | 'aborted' | 'sibling_failed' | 'closed';

export abstract class BatcherError extends Error {
  abstract readonly code: string;
}

export class QueueFullError extends BatcherError {
  static readonly code = 'QUEUE_FULL';
  override name = 'QueueFullError';
  readonly code = QueueFullError.code;
  /** `why` replaces the default reason (MAX_QUEUE texts waiting). */
  constructor(readonly retryAfterSeconds: number, capacity: number, why = `${capacity} texts waiting`) {
    super(`the prediction queue is full (${why}); retry in ${retryAfterSeconds} s`);
  }
}

export class DeadlineExceededError extends BatcherError {
  static readonly code = 'DEADLINE_EXCEEDED';
  override name = 'DeadlineExceededError';
  readonly code = DeadlineExceededError.code;
  /** `batchMs` given: dropped before its deadline, which a batch of that length would overrun. */
  constructor(waitedMs: number, batchMs?: number) {
    super(batchMs === undefined
      ? `the request waited ${Math.round(waitedMs)} ms in the queue and passed its deadline before inference`
      : `the request waited ${Math.round(waitedMs)} ms in the queue; a batch may take ${Math.round(batchMs)} ms now, which would end past its deadline`);
  }
}

export class RequestAbortedError extends BatcherError {
  static readonly code = 'REQUEST_ABORTED';
  override name = 'RequestAbortedError';
  readonly code = RequestAbortedError.code;
  constructor() {
    super('the client went away before inference');
  }
}

export class BatcherClosedError extends BatcherError {
  static readonly code = 'SHUTTING_DOWN';
  override name = 'BatcherClosedError';
  readonly code = BatcherClosedError.code;
  constructor() {
    super('the service is shutting down and takes no new requests');
  }
}
