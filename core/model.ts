// A loaded model: its description (what metadata routes and logs read) and, private to the core, the
// backend (the pool of workers) serving it and the guess of its texts' token counts. Loading reads the model directory, hashes the ONNX file as a stream and starts the
// workers (each loads and warms up in its own thread): nothing here blocks the event loop for long, so a
// hot reload of a large model leaves the running service answering.
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { FP16_FILE, fileSha256, loadModelFiles } from '../inference/model-files.js';
import { InferencePool } from '../inference/pool.js';
import type { ProblemType } from '../inference/model-head.js';
import type { Device } from '../inference/protocol.js';
import type { ScoringBackend } from './backend.js';
import type { Config } from './config.js';
import { preprocessorFor } from './text-preprocessing.js';
import { TokenEstimate } from './token-estimate.js';

/** What clients and operators may know of the model being served. */
export interface ModelDescription {
  name: string;
  /** The ONNX file served, within the model directory. */
  file: string;
  labels: readonly string[];
  /** What the outputs mean (config.json problem_type): it decides the scores and the shape of every answer. */
  problemType: ProblemType;
  /** The text normalization steps applied to every text before the model reads it (config.json text_preprocessing). */
  preprocessing: readonly string[];
  /** Tokens per text after which it is truncated. */
  maxTokens: number;
  precision: 'fp32' | 'fp16';
  device: Device;
  executionProviders: readonly string[];
  workers: number;
  intraOpThreads: number;
  /** Texts per ONNX Runtime run that cost least per token at warm-up: a worker cuts its batches into runs this size. */
  runRows: number;
  sha256: string;
  /** First 12 hex digits of sha256, sent as x-model-version. */
  version: string;
  loadedAt: Date;
}

/** A model with its workers; only the core holds one. */
export interface ServedModel {
  description: ModelDescription;
  backend: ScoringBackend;
  estimate: TokenEstimate;
  /** The declared preprocessing as one function; undefined when the model declares none. */
  preprocess: ((text: string) => string) | undefined;
}

/** What tests may swap in or watch below the configuration. */
export interface ModelInternals {
  /** A worker module that injects faults. */
  workerFile?: string;
  /** Sees each pool started (tests that count its threads). */
  onPool?: (pool: InferencePool) => void;
}

/**
 * Loads the model at MODEL_PATH into a new, warmed-up pool of workers; `onWorkerCrash` is called whenever
 * one of its workers dies (it is replaced).
 */
export async function loadServedModel(config: Config, logger: Logger, internals: ModelInternals = {}, onWorkerCrash?: () => void): Promise<ServedModel> {
  const precision = config.modelPrecision === 'auto' ? (config.device === 'cpu' ? 'fp32' : 'prefer-fp16') : config.modelPrecision;
  const files = loadModelFiles(config.modelPath, { maxTokens: config.maxTokens, precision, tokenizer: false });
  // Checked before any worker starts: an unknown step is an error of the model folder.
  const preprocess = preprocessorFor(files.textPreprocessing, `config.json in ${files.dir}`);
  const started = performance.now();
  // The hash streams on this thread while the workers load and warm up in theirs.
  const hashing = fileSha256(files.onnxPath);
  hashing.catch(() => undefined); // awaited below; a failed pool start must not leave it unhandled
  const pool = await InferencePool.start({
    files,
    device: config.device,
    workers: config.workers,
    intraOpThreads: config.intraOpThreads,
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
  if (onWorkerCrash) pool.onCrash(onWorkerCrash);
  internals.onPool?.(pool);
  const description: ModelDescription = {
    name: files.name,
    file: basename(files.onnxPath),
    labels: files.labels,
    problemType: files.problemType,
    preprocessing: files.textPreprocessing,
    maxTokens: files.maxTokens,
    precision: basename(files.onnxPath) === FP16_FILE ? 'fp16' : 'fp32',
    device: config.device,
    executionProviders: pool.description.providers,
    workers: pool.workers,
    intraOpThreads: pool.intraOpThreads,
    runRows: Math.min(pool.description.runRows, config.maxBatchSize),
    sha256,
    version: sha256.slice(0, 12),
    loadedAt: new Date(),
  };
  logger.info({
    ...description, path: files.onnxPath, loadMs: Math.round(performance.now() - started),
    warmupMs: Math.round(pool.description.warmupMs), warmupShapes: pool.description.warmupShapes, msPerToken: pool.description.msPerToken,
  }, 'model loaded and warmed up');
  return { description, backend: pool, estimate: new TokenEstimate(files.maxTokens, pool.description.specialTokens), preprocess };
}
