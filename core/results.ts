// What the core answers for each text, and the options a call gives: protocol-neutral, so that each
// transport (REST, TEI, V2, streams, the command line) writes its own body from the same result.
import type { Truncation } from '../inference/protocol.js';
import type { ModelDescription } from './model.js';
import type { TextLimits } from './text-checks.js';

export interface StageTimings {
  /** The longest wait in the batching queue among the call's texts, ms. */
  queueMs: number;
  /** The longest batch run in an inference worker (tokenizing and the model) among the call's texts, ms. */
  inferenceMs: number;
}

/** One text's answer. Shared, not copied (the prediction cache hands out the same object): read only. */
export interface TextResult {
  /** The most likely label: an index into the model's labels. */
  readonly labelIndex: number;
  /** Softmax probabilities, in the model's label order. */
  readonly probabilities: Float32Array;
  /** The model's raw output, in the model's label order. */
  readonly logits: Float32Array;
  /** The text had more tokens than the model reads and was cut. */
  readonly truncated: boolean;
}

export interface PredictOptions {
  /** Absolute time (performance.now()) after which waiting texts are dropped with DEADLINE_EXCEEDED. */
  deadline: number;
  /** Reads true once the client has gone (an AbortSignal, or any such view). */
  signal?: { readonly aborted: boolean };
  /** What to do with a text longer than the model reads: cut its end (default) or start, or refuse it. */
  truncation?: Truncation;
  /** Names text i in error messages ("text", "texts.3", "line 7"); default `texts.i`. */
  name?: (i: number) => string;
  /** Names the whole list in the TOO_MANY_TEXTS message; default `texts`. */
  listName?: string;
}

export interface PredictionSet {
  model: ModelDescription;
  results: TextResult[];
  /** Texts answered from the cache. */
  cacheHits: number;
  /** The longest of each stage over the call's texts that were computed (0 when the cache answered all). */
  timings: StageTimings;
}

/** Each text's outcome of predictEach, by its position: its result, or the error that stopped it. */
export type TextCallback = (index: number, outcome: TextResult | Error) => void;

export interface PredictorLimits extends TextLimits {
  maxQueue: number;
  maxBatchSize: number;
  maxBatchTokens: number;
  requestTimeoutMs: number;
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < values.length; k++) if (values[k]! > values[best]!) best = k;
  return best;
}
