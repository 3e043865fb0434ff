// Where the batcher delivers the outcome of each text of one call (batching/options.ts BatchSink): one object
// per call, so that a call of n texts costs one promise (predict) or one callback per text (predictEach),
// not a promise and a closure per text. A sink is also its call's cancel signal: the batcher reads it when it
// looks at the queue, and drops the call's waiting texts once it reads true.
import type { BatchSink, CancelSignal, Completed } from '../batching/options.js';
import type { Truncation } from '../inference/protocol.js';
import { TooManyTokensError } from './errors.js';
import type { PredictionCache } from './prediction-cache.js';
import type { TextCallback, TextResult } from './results.js';

/** A text's answer as a batch gives it back, with its batch's time in the worker. */
export interface ScoredText extends TextResult {
  readonly inferenceMs: number;
}

/** A text the worker did not run: truncation 'none' and more tokens than the model reads. */
export const TOO_MANY_TOKENS = Symbol('too many tokens');
export type TextOutcome = ScoredText | typeof TOO_MANY_TOKENS;

/** What every sink of one call knows: its texts, how to name them, where computed answers are kept. */
export interface CallContext {
  /** The texts as the model reads them (after the model's preprocessing). */
  texts: readonly string[];
  /** Texts from this position on are variants of texts being explained: answers nobody is given, not cached. */
  counted: number;
  name: (i: number) => string;
  maxTokens: number;
  truncation: Truncation;
  modelSha256: string;
  cache: PredictionCache | undefined;
  /** The client's signal: it left. */
  client: { readonly aborted: boolean } | undefined;
  /** Called once every text the sink was given has settled. */
  settled: () => void;
}

/**
 * The texts of one call that went to the batcher, as positions into the call's texts (submitted text j is
 * text positions[j]; all of them, in order, when positions is undefined).
 */
abstract class QueuedTexts implements BatchSink<TextOutcome>, CancelSignal {
  protected readonly call: CallContext;
  readonly #positions: readonly number[] | undefined;
  #remaining: number;

  constructor(call: CallContext, positions: readonly number[] | undefined, queued: number) {
    this.call = call;
    this.#positions = positions;
    this.#remaining = queued;
  }

  get aborted(): boolean {
    return this.call.client?.aborted ?? false;
  }

  resolve(index: number, completed: Completed<TextOutcome>): void {
    const at = this.#positions?.[index] ?? index;
    const outcome = completed.value;
    if (outcome === TOO_MANY_TOKENS) {
      this.failText(at, new TooManyTokensError(this.call.name(at), this.call.maxTokens));
    } else {
      if (at < this.call.counted) this.call.cache?.store(this.call.texts[at]!, this.call.modelSha256, this.call.truncation, outcome);
      this.answerText(at, outcome, completed.queueMs);
    }
    this.#settledOne();
  }

  reject(index: number, error: Error): void {
    this.failText(this.#positions?.[index] ?? index, error);
    this.#settledOne();
  }

  /** Every text not yet given to the batcher's sink failed with `error` (the call was refused whole). */
  refuse(error: Error): void {
    for (let j = 0; this.#remaining > 0; j++) this.reject(j, error);
  }

  protected abstract answerText(at: number, result: ScoredText, queueMs: number): void;
  protected abstract failText(at: number, error: Error): void;

  #settledOne(): void {
    if (--this.#remaining === 0) this.call.settled();
  }
}

/** predict(): one promise for the call, settled with every answer, or with its first error. */
export class CallSink extends QueuedTexts {
  readonly results: TextResult[];
  queueMs = 0;
  inferenceMs = 0;
  readonly #done: (error?: Error) => void;
  #unanswered: number;
  #failed = false;

  /** `results` holds the answers already known (the cache's), with a hole for each queued text. */
  constructor(call: CallContext, results: TextResult[], positions: readonly number[] | undefined, queued: number, done: (error?: Error) => void) {
    super(call, positions, queued);
    this.results = results;
    this.#unanswered = queued;
    this.#done = done;
  }

  /** A failed text fails the call: its other texts leave the queue, counted as dropped for that reason. */
  override get aborted(): boolean {
    return this.#failed || super.aborted;
  }

  /** Why its waiting texts leave: the client went away, or (the client still there) another text failed. */
  get dropReason(): 'aborted' | 'sibling_failed' {
    return super.aborted ? 'aborted' : 'sibling_failed';
  }

  protected answerText(at: number, result: ScoredText, queueMs: number): void {
    this.results[at] = result;
    if (queueMs > this.queueMs) this.queueMs = queueMs;
    if (result.inferenceMs > this.inferenceMs) this.inferenceMs = result.inferenceMs;
    if (--this.#unanswered === 0 && !this.#failed) this.#done();
  }

  protected failText(_at: number, error: Error): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#done(error);
  }
}

/** predictEach(): each text answered on its own, by a callback; a failed text does not stop the others. */
export class EachSink extends QueuedTexts {
  readonly #onText: TextCallback;

  constructor(call: CallContext, positions: readonly number[] | undefined, queued: number, onText: TextCallback) {
    super(call, positions, queued);
    this.#onText = onText;
  }

  protected answerText(at: number, result: ScoredText): void {
    this.#onText(at, result);
  }

  protected failText(at: number, error: Error): void {
    this.#onText(at, error);
  }
}
