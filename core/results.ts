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
  /** The highest-scoring output: the most likely label (an index into the model's labels). */
  readonly labelIndex: number;
  /**
   * The head's scores, in the model's label order (inference/model-head.ts): softmax probabilities for a
   * single-label model, a sigmoid probability per label for a multi-label one, the raw values of a regression.
   */
  readonly scores: Float32Array;
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
  /** Weigh each word of each text by leaving it out (core/explanations.ts); the variants go in the same call. */
  explain?: boolean;
}

/** A word of a text and what it adds to the predicted label's score (or to a regression's value). */
export interface WordWeight {
  text: string;
  weight: number;
}

export interface PredictionSet {
  model: ModelDescription;
  results: TextResult[];
  /** Texts answered from the cache. */
  cacheHits: number;
  /** The longest of each stage over the call's texts that were computed (0 when the cache answered all). */
  timings: StageTimings;
  /** With `explain`: each text's words with their weights, by position. */
  explanations?: (readonly WordWeight[])[];
}

/**
 * Each text's outcome of predictEach, by its position: its result (and, with `explain`, its words'
 * weights), or the error that stopped it.
 */
export type TextCallback = (index: number, outcome: TextResult | Error, explanation?: readonly WordWeight[]) => void;

export interface PredictorLimits extends TextLimits {
  /** Most words of a text that `explain` weighs (EXPLAIN_MAX_WORDS). */
  explainMaxWords: number;
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

/**
 * A multi-label model predicts every label whose probability reaches this: the labels are independent
 * (a sigmoid each), so a text may have several or none, as transformers' multi-label examples read them.
 */
export const MULTI_LABEL_THRESHOLD = 0.5;

/** The labels (indices) a multi-label result predicts, highest score first. */
export function labelsAbove(scores: ArrayLike<number>, threshold = MULTI_LABEL_THRESHOLD): number[] {
  const chosen: number[] = [];
  for (let k = 0; k < scores.length; k++) if (scores[k]! >= threshold) chosen.push(k);
  return chosen.sort((a, b) => scores[b]! - scores[a]!);
}
