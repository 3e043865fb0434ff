// What the core answers for each text, and the options a call gives: protocol-neutral, so that each
// transport (REST, TEI, V2, streams, the command line) writes its own body from the same result.
import type { Completed } from '../batching/batcher.js';
import type { Truncation } from '../inference/protocol.js';
import type { ModelDescription } from './model.js';
import type { CachedOutput } from './prediction-cache.js';
import type { TextLimits } from './text-checks.js';

export interface StageTimings {
  /** Waiting for a tokenizer worker and tokenizing, ms. */
  tokenizeMs: number;
  /** Waiting in the batching queue, ms. */
  queueMs: number;
  /** The batch's run in its inference worker, ms. */
  inferenceMs: number;
}

export interface TextResult {
  /** The most likely label: an index into the model's labels. */
  labelIndex: number;
  /** Softmax probabilities, in the model's label order. */
  probabilities: Float32Array;
  /** The model's raw output, in the model's label order. */
  logits: Float32Array;
  /** The text had more tokens than the model reads and was cut. */
  truncated: boolean;
  /** Tokens the model read, special tokens included. */
  tokens: number;
  /** Answered from the prediction cache (then every timing is 0). */
  cached: boolean;
  timings: StageTimings;
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
}

export interface PredictionSet {
  model: ModelDescription;
  results: TextResult[];
  /** Texts answered from the cache. */
  cacheHits: number;
  /** The longest of each stage over the call's texts. */
  timings: StageTimings;
}

export interface PredictionStream {
  model: ModelDescription;
  /** One promise per text, in the texts' order; each settles on its own. */
  results: Promise<TextResult>[];
}

export interface PredictorLimits extends TextLimits {
  maxQueue: number;
  maxBatchSize: number;
  maxBatchTokens: number;
  requestTimeoutMs: number;
}

/** What the inference batcher gives back for one text. */
export interface ModelOutput { logits: Float32Array; probabilities: Float32Array; inferenceMs: number }

/** What the tokenizer stage gives back for one text. */
export interface Tokenized { ids: Int32Array; truncated: boolean }

function argmax(values: Float32Array): number {
  let best = 0;
  for (let k = 1; k < values.length; k++) if (values[k]! > values[best]!) best = k;
  return best;
}

export function toResult(tokenized: Completed<Tokenized>, inferred: Completed<ModelOutput>): TextResult {
  const { logits, probabilities, inferenceMs } = inferred.value;
  return {
    labelIndex: argmax(probabilities),
    probabilities,
    logits,
    truncated: tokenized.value.truncated,
    tokens: tokenized.value.ids.length,
    cached: false,
    timings: { tokenizeMs: tokenized.queueMs + tokenized.runMs, queueMs: inferred.queueMs, inferenceMs },
  };
}

export function fromCache(output: CachedOutput): TextResult {
  return { ...output, labelIndex: argmax(output.probabilities), cached: true, timings: { tokenizeMs: 0, queueMs: 0, inferenceMs: 0 } };
}
