// The messages between the pool (main thread) and its workers, typed in one place: each task kind names the
// reply it gets (TaskReplies), so neither side casts. Token ids, logits and probabilities travel as
// transferable typed arrays (moved, not copied or serialized as JSON).
export type Device = 'cpu' | 'webgpu' | 'cuda';
export const DEVICES: readonly Device[] = ['cpu', 'webgpu', 'cuda'];

/** Sequence lengths are padded to multiples of 8: a bounded set of shapes for ONNX Runtime. */
export const LENGTH_MULTIPLE = 8;

/**
 * The one padding rule, used by the batcher to count a batch's tokens and by the worker to lay it out: the
 * longest text's length rounded up to the multiple, never beyond the model's limit.
 */
export function paddedLength(tokens: number, maxTokens: number, multiple = LENGTH_MULTIPLE): number {
  return Math.min(Math.ceil(tokens / multiple) * multiple, maxTokens);
}

/**
 * A worker either tokenizes (a light thread, so tokenizing never waits behind a running batch and the
 * batcher's count of busy inference workers stays exact) or runs the model (one ONNX Runtime session).
 */
export type WorkerRole = 'tokenize' | 'infer';

/** Given to every worker as Piscina `workerData`. */
export interface WorkerConfig {
  role: WorkerRole;
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
}

/** What to do with a text longer than the model reads. */
export type Truncation = 'right' | 'left' | 'none';
export const TRUNCATIONS: readonly Truncation[] = ['right', 'left', 'none'];

/** Tokenizes texts; the reply lists every text's ids back to back. */
export interface EncodeTask {
  kind: 'encode';
  texts: string[];
  /** Index into TRUNCATIONS for each text. 'none' leaves a long text whole and flags it as truncated. */
  truncation: Uint8Array;
}

export interface EncodedTexts {
  /** All ids, text after text. */
  ids: Int32Array;
  /** Text i's ids are ids[offsets[i] .. offsets[i + 1]). Length: texts + 1. */
  offsets: Int32Array;
  /** 1 where the text has more tokens than the model reads (cut, unless its truncation was 'none'). */
  truncated: Uint8Array;
  ms: number;
}

/** Runs one batch: the texts' ids back to back, as an EncodedTexts gives them. */
export interface InferTask {
  kind: 'infer';
  ids: Int32Array;
  offsets: Int32Array;
}

export interface InferenceResult {
  /** The model's output, row-major [texts, labels]. */
  logits: Float32Array;
  /** Softmax of the logits, row-major [texts, labels]. */
  probabilities: Float32Array;
  /** Time spent in ONNX Runtime (input building included), ms. */
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
  /** Execution providers the session was created with, in priority order (none in a tokenizer worker). */
  providers: string[];
  warmupMs: number;
  /** Steady-state ONNX Runtime milliseconds per padded token at a tweet's length, measured at warm-up (0 in a tokenizer worker). */
  msPerToken: number;
  /** Batch shapes the warm-up ran. */
  warmupShapes: number;
}

export type WorkerTask = EncodeTask | InferTask | TokenizeTask | DecodeTask | DescribeTask;

/** The reply each task kind gets. */
export interface TaskReplies {
  encode: EncodedTexts;
  infer: InferenceResult;
  tokenize: TokenDetail[][];
  decode: string[];
  describe: WorkerDescription;
}

/** Errors come back as values with a code, so the pool can tell them from a worker that died. */
export type WorkerReply<T> = { ok: true; value: T } | { ok: false; code: string; message: string };
