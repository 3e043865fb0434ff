// The messages between the pool (main thread) and its workers, typed in one place: each task kind names the
// reply it gets (TaskReplies), so neither side casts. Texts go to a worker as strings; logits, scores and
// the per-text flags come back as transferable typed arrays (moved, not copied).
import type { Activation } from './model-head.js';

import type { RunLimits } from './run-plan.js';

export type Device = 'cpu' | 'webgpu' | 'cuda';
export const DEVICES: readonly Device[] = ['cpu', 'webgpu', 'cuda'];

/** Sequence lengths are padded to multiples of 8: a bounded set of shapes for ONNX Runtime. */
export const LENGTH_MULTIPLE = 8;

/**
 * The one padding rule, used by the batcher to count a batch's tokens and by the worker to lay out each
 * run: the longest text's length rounded up to the multiple, never beyond the model's limit.
 */
export function paddedLength(tokens: number, maxTokens: number, multiple = LENGTH_MULTIPLE): number {
  return Math.min(Math.ceil(tokens / multiple) * multiple, maxTokens);
}

/** Given to every worker as Piscina `workerData`. */
export interface WorkerConfig {
  /** The ONNX file to load; its directory holds tokenizer.json and config.json. */
  onnxPath: string;
  modelDir: string;
  maxTokens: number;
  device: Device;
  intraOpThreads: number;
  /** The warm-up's largest shape is this many texts at the longest length (run if the time budget allows). */
  warmupBatchSize: number;
  /** Wall time the warm-up may take (WARMUP_BUDGET_MS). */
  warmupBudgetMs: number;
  /** Labels of the model (logit width). */
  numLabels: number;
  /** What turns the model's logits into its scores (model-head.ts): the head's, from config.json. */
  activation: Activation;
}

/** What to do with a text longer than the model reads. */
export type Truncation = 'right' | 'left' | 'none';
export const TRUNCATIONS: readonly Truncation[] = ['right', 'left', 'none'];

/**
 * Tokenizes a batch of texts and runs the model on them, in one task: the texts are sorted by token count
 * and cut into runs within `runs` (run-plan.ts), each padded to its own longest text.
 */
export interface ScoreTask {
  kind: 'score';
  texts: string[];
  /** Index into TRUNCATIONS for each text. */
  truncation: Uint8Array;
  runs: RunLimits;
}

/** A text's outcome in a ScoredBatch. */
export const TEXT_SCORED = 0;
/** Truncation 'none' and more tokens than the model reads: not run. */
export const TEXT_TOO_MANY_TOKENS = 1;

export interface ScoredBatch {
  /** The model's output, row-major [texts, labels]; zeros where the text was not run. */
  logits: Float32Array;
  /**
   * The head's activation of the logits, row-major [texts, labels]: softmax probabilities (single-label),
   * a sigmoid probability per label (multi-label), or the raw values (regression).
   */
  scores: Float32Array;
  /** TEXT_SCORED or TEXT_TOO_MANY_TOKENS, per text. */
  status: Uint8Array;
  /** 1 where the text had more tokens than the model reads (cut, unless its truncation was 'none'). */
  truncated: Uint8Array;
  /** Each text's token count, special tokens included (after the cut, unless its truncation was 'none'). */
  tokens: Int32Array;
  /** Tokens the model read, special tokens included, summed over the texts run. */
  realTokens: number;
  /** Tokens computed: each run's rows × its padded length, summed. */
  paddedTokens: number;
  /** ONNX Runtime runs the batch took. */
  runs: number;
  /** Time spent tokenizing, ms. */
  tokenizeMs: number;
  /** The whole task in the worker (tokenizing, input tensors, ONNX Runtime, activation), ms. */
  ms: number;
}

/** Tokens of texts with their strings, for clients that inspect the tokenizer (TEI's /tokenize). */
export interface TokenizeTask {
  kind: 'tokenize';
  texts: string[];
  addSpecialTokens: boolean;
}

export interface TokenDetail {
  id: number;
  text: string;
  special: boolean;
}

/** Token ids back to text (TEI's /decode). */
export interface DecodeTask {
  kind: 'decode';
  ids: number[][];
  skipSpecialTokens: boolean;
}

/** Reports the worker's state; the first one also waits for the worker's warm-up. */
export interface DescribeTask {
  kind: 'describe';
}

export interface WorkerDescription {
  /** Execution providers the session was created with, in priority order. */
  providers: string[];
  warmupMs: number;
  /** Steady-state ONNX Runtime milliseconds per padded token at a tweet's length, measured at warm-up. */
  msPerToken: number;
  /** Batch shapes the warm-up ran. */
  warmupShapes: number;
  /** Special tokens the tokenizer adds around a text (e.g. RoBERTa's <s> and </s>: 2). */
  specialTokens: number;
  /**
   * The most texts per ONNX Runtime run: the largest run size within a tenth of the cheapest cost per padded
   * token at a tweet's length, as measured at warm-up (warmup.ts).
   */
  runRows: number;
  /** The fixed cost of one run in padded tokens' worth, fitted at warm-up (warmup.ts). */
  runOverheadTokens: number;
}

export type WorkerTask = ScoreTask | TokenizeTask | DecodeTask | DescribeTask;

/** The reply each task kind gets. */
export interface TaskReplies {
  score: ScoredBatch;
  tokenize: TokenDetail[][];
  decode: string[];
  describe: WorkerDescription;
}

/** Errors come back as values with a code, so the pool can tell them from a worker that died. */
export type WorkerReply<T> = { ok: true; value: T } | { ok: false; code: string; message: string };
