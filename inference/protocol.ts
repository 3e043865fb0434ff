// The messages between the pool (main thread) and its workers, typed in one place. Token ids and
// probabilities travel as transferable typed arrays (moved, not copied or serialized as JSON).
export type Device = 'cpu' | 'webgpu' | 'cuda';
export const DEVICES: readonly Device[] = ['cpu', 'webgpu', 'cuda'];

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
  /** Sequence lengths are padded up to a multiple of this (bounded set of shapes for ONNX Runtime). */
  lengthMultiple: number;
  /** The warm-up runs one batch of this many texts at the longest length before the worker takes work. */
  warmupBatchSize: number;
  /** Labels of the model (logit width). */
  numLabels: number;
}

/** Tokenizes texts; the reply lists every text's ids back to back. */
export interface EncodeTask {
  kind: 'encode';
  texts: string[];
}

export interface EncodedTexts {
  /** All ids, text after text. */
  ids: Int32Array;
  /** Text i's ids are ids[offsets[i] .. offsets[i + 1]). Length: texts + 1. */
  offsets: Int32Array;
  /** 1 where the text was cut to maxTokens. */
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
  /** Softmax probabilities, row-major [texts, labels]. */
  probabilities: Float32Array;
  /** Time spent in ONNX Runtime (input building included), ms. */
  ms: number;
}

/** Reports the worker's state; the first one also waits for the worker's warm-up. */
export interface DescribeTask {
  kind: 'describe';
}

export interface WorkerDescription {
  role: WorkerRole;
  threadId: number;
  /** Execution providers the session was created with, in priority order. */
  providers: string[];
  inputNames: string[];
  warmupMs: number;
}

export type WorkerTask = EncodeTask | InferTask | DescribeTask;

/** Errors come back as values with a code, so the pool can tell them from a worker that died. */
export type WorkerReply<T> = { ok: true; value: T } | { ok: false; code: string; message: string };
