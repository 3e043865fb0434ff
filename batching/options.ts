// What the micro-batcher (batcher.ts) takes and gives: its options, the entries submitted, the results and
// the events it reports, with the checks of the numeric options.
import type { Clock } from './clock.js';
import type { RejectionReason } from './errors.js';

/** Runs one batch of texts of one `group`; must return one result per payload, in the same order. */
export type BatchRunner<P, R> = (payloads: P[], group: unknown) => Promise<R[]>;

export interface BatchInfo {
  size: number;
  /** Longest sequence of the batch after padding to the length multiple. */
  paddedLength: number;
  /** size × paddedLength: what the model computes. */
  paddedTokens: number;
  /** Sum of the texts' own token counts: paddedTokens minus this is padding. */
  realTokens: number;
  /** How long each text waited in the queue, ms. */
  queueWaitsMs: number[];
}

/** Events for metrics. An observer that throws is ignored: it never breaks or stalls batching. */
export interface BatcherObserver {
  onBatchStart?(info: BatchInfo): void;
  onReject?(reason: RejectionReason, texts: number): void;
}

export interface BatcherOptions<P, R> {
  runner: BatchRunner<P, R>;
  maxBatchSize: number;
  maxBatchTokens: number;
  maxWaitMs: number;
  maxQueue: number;
  /** Batches that run at once: one per worker. */
  concurrency: number;
  /** Sealed batches handed to the runner beyond `concurrency` while every worker is busy. */
  prefetch?: number;
  /** Lengths are padded up to a multiple of this before they are counted, as the runner pads them. */
  lengthMultiple?: number;
  /**
   * The length a text of `tokens` tokens is padded to in its batch, exactly as the runner pads it (e.g. a
   * multiple capped at the model's limit). Defaults to rounding up to `lengthMultiple`.
   */
  padTo?: (tokens: number) => number;
  /** Fraction of maxQueue from which `saturated` reports true (readiness turns 503 before the queue sheds). */
  saturationRatio?: number;
  clock?: Clock;
  observer?: BatcherObserver;
}

export interface SubmitEntry<P> {
  payload: P;
  /** Token count of the text, special tokens included. */
  tokens: number;
}

/**
 * Reads true once the texts still waiting should leave the queue (an AbortSignal, or any such view).
 * `dropReason` says why, for the rejection count: by default the client went away ('aborted').
 */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly dropReason?: 'aborted' | 'sibling_failed';
}

export interface SubmitOptions {
  /** Absolute time on the batcher's clock after which the text is dropped rather than run. */
  deadline?: number;
  /** Once `aborted` reads true, the texts still waiting are dropped. */
  signal?: CancelSignal;
  /** Only texts with the same group share a batch (e.g. the model generation they were tokenized for). */
  group?: unknown;
}

/**
 * Receives the outcome of each text of one submission, by its position in the submission: one object per
 * call, rather than a promise per text.
 */
export interface BatchSink<R> {
  resolve(index: number, completed: Completed<R>): void;
  reject(index: number, error: Error): void;
}

export interface Completed<R> {
  value: R;
  /** Time from submission to the start of the batch that ran it, ms. */
  queueMs: number;
  /** Time the batch took in the runner, ms. */
  runMs: number;
}

export function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

export function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}

export function nonNegative(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  return value;
}
