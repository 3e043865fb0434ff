// Why the batcher refused or dropped a request. Each error carries a stable `code` so the server maps it to
// an HTTP status in one place without matching message text.
export type RejectionReason = 'queue_full' | 'deadline' | 'aborted' | 'closed';

export abstract class BatcherError extends Error {
  abstract readonly code: string;
}

export class QueueFullError extends BatcherError {
  override name = 'QueueFullError';
  readonly code = 'QUEUE_FULL';
  constructor(readonly retryAfterSeconds: number, capacity: number) {
    super(`the prediction queue is full (${capacity} texts waiting); retry in ${retryAfterSeconds} s`);
  }
}

export class DeadlineExceededError extends BatcherError {
  override name = 'DeadlineExceededError';
  readonly code = 'DEADLINE_EXCEEDED';
  constructor(waitedMs: number) {
    super(`the request waited ${Math.round(waitedMs)} ms in the queue and passed its deadline before inference`);
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
