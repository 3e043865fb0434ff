// Why the batcher refused or dropped a request. Each error carries a stable `code` so the server maps it to
// an HTTP status in one place without matching message text.
export type RejectionReason = 'queue_full' | 'deadline' | 'aborted' | 'closed';

export abstract class BatcherError extends Error {
  abstract readonly code: string;
}

export class QueueFullError extends BatcherError {
  override name = 'QueueFullError';
  readonly code = 'QUEUE_FULL';
  /** `why` replaces the default reason (MAX_QUEUE texts waiting). */
  constructor(readonly retryAfterSeconds: number, capacity: number, why = `${capacity} texts waiting`) {
    super(`the prediction queue is full (${why}); retry in ${retryAfterSeconds} s`);
  }
}

export class DeadlineExceededError extends BatcherError {
  override name = 'DeadlineExceededError';
  readonly code = 'DEADLINE_EXCEEDED';
  /** `batchMs` given: dropped before its deadline, which a batch of that length would overrun. */
  constructor(waitedMs: number, batchMs?: number) {
    super(batchMs === undefined
      ? `the request waited ${Math.round(waitedMs)} ms in the queue and passed its deadline before inference`
      : `the request waited ${Math.round(waitedMs)} ms in the queue; a batch may take ${Math.round(batchMs)} ms now, which would end past its deadline`);
  }
}

export class RequestAbortedError extends BatcherError {
  override name = 'RequestAbortedError';
  readonly code = 'REQUEST_ABORTED';
  constructor() {
    super('the client went away before inference');
  }
}

export class BatcherClosedError extends BatcherError {
  override name = 'BatcherClosedError';
  readonly code = 'SHUTTING_DOWN';
  constructor() {
    super('the service is shutting down and takes no new requests');
  }
}
