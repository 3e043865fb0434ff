// A loaded model: its description (what metadata routes and logs read) and, private to the core, the pool
// of workers serving it. Loading reads the model directory, hashes the ONNX file as a stream and starts the
// workers (each loads and warms up in its own thread): nothing here blocks the event loop for long, so a
// hot reload of a large model leaves the running service answering.
import { relative } from 'node:path';
import type { Logger } from 'pino';
import { fileSha256, loadModelFiles } from '../inference/model-files.js';
import type { Dtype } from '../inference/onnx-files.js';
import { InferencePool } from '../inference/pool.js';
import type { Device } from '../inference/protocol.js';
import type { Config } from './config.js';

/** What clients and operators may know of the model being served. */
export interface ModelDescription {
  name: string;
  /** The ONNX file served, relative to the model directory (model.onnx, onnx/model_quantized.onnx...). */
  file: string;
  /** Its dtype, in transformers.js's names (fp32, fp16, q8...). */
  dtype: Dtype;
  labels: readonly string[];
  /** Tokens per text after which it is truncated. */
  maxTokens: number;
  device: Device;
  executionProviders: readonly string[];
  workers: number;
  intraOpThreads: number;
  tokenizerThreads: number;
  sha256: string;
  /** First 12 hex digits of sha256, sent as x-model-version. */
  version: string;
  loadedAt: Date;
}

/** A model with its workers; only the core holds one. */
export interface ServedModel {
  description: ModelDescription;
  pool: InferencePool;
}

/** What tests may swap in below the configuration (a worker module that injects faults). */
export interface ModelInternals {
  workerFile?: string;
}

/** Loads the model at MODEL_PATH into a new, warmed-up pool of workers. */
export async function loadServedModel(config: Config, logger: Logger, internals: ModelInternals = {}): Promise<ServedModel> {
  const files = loadModelFiles(config.modelPath, { maxTokens: config.maxTokens, dtype: config.modelDtype, device: config.device, tokenizer: false });
  const started = performance.now();
  // The hash streams on this thread while the workers load and warm up in theirs.
  const hashing = fileSha256(files.onnxPath);
  hashing.catch(() => undefined); // awaited below; a failed pool start must not leave it unhandled
  const pool = await InferencePool.start({
    files,
    device: config.device,
    workers: config.workers,
    intraOpThreads: config.intraOpThreads,
    tokenizerThreads: config.tokenizerThreads,
    warmupBatchSize: config.maxBatchSize,
    workerFile: internals.workerFile,
  });
  let sha256: string;
  try {
    sha256 = await hashing;
  } catch (error) {
    await pool.close();
    throw error;
  }
  const description: ModelDescription = {
    name: files.name,
    file: relative(files.dir, files.onnxPath),
    dtype: files.dtype,
    labels: files.labels,
    maxTokens: files.maxTokens,
    device: config.device,
    executionProviders: pool.description.providers,
    workers: pool.workers,
    intraOpThreads: pool.intraOpThreads,
    tokenizerThreads: pool.tokenizerThreads,
    sha256,
    version: sha256.slice(0, 12),
    loadedAt: new Date(),
  };
  logger.info({
    ...description, path: files.onnxPath, loadMs: Math.round(performance.now() - started),
    warmupMs: Math.round(pool.description.warmupMs), warmupShapes: pool.description.warmupShapes, msPerToken: pool.description.msPerToken,
  }, 'model loaded and warmed up');
  return { description, pool };
}
