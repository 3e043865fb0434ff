// A loaded model: its description (what metadata routes and logs read) and, private to the core, the
// backend (the pool of workers) serving it and the guess of its texts' token counts. Loading reads the model directory, hashes the ONNX file as a stream and starts the
// workers (each loads and warms up in its own thread): nothing here blocks the event loop for long, so a
// hot reload of a large model leaves the running service answering.
import { relative } from 'node:path';
import type { Logger } from 'pino';
import { fileSha256, loadModelFiles } from '../inference/model-files.js';
import type { Dtype } from '../inference/onnx-files.js';
import { InferencePool } from '../inference/pool.js';
import type { ProblemType } from '../inference/model-head.js';
import type { Device } from '../inference/protocol.js';
import type { RunLimits } from '../inference/run-plan.js';
import type { ScoringBackend } from './backend.js';
import type { Config } from './config.js';
import { preprocessorFor } from './text-preprocessing.js';
import { TokenEstimate } from './token-estimate.js';
import { availableCpus } from '../inference/cpus.js';
import { chooseSizing, configuredSizing, probeSizing, type WorkerSizing } from './worker-sizing.js';

/** What clients and operators may know of the model being served. */
export interface ModelDescription {
  name: string;
  /** The ONNX file served, relative to the model directory (model.onnx, onnx/model_quantized.onnx...). */
  file: string;
  /** Its dtype, in transformers.js's names (fp32, fp16, q8...). */
  dtype: Dtype;
  labels: readonly string[];
  /** What the outputs mean (config.json problem_type): it decides the scores and the shape of every answer. */
  problemType: ProblemType;
  /** The text normalization steps applied to every text before the model reads it (config.json text_preprocessing). */
  preprocessing: readonly string[];
  /** Tokens per text after which it is truncated. */
  maxTokens: number;
  device: Device;
  executionProviders: readonly string[];
  workers: number;
  intraOpThreads: number;
  /** How WORKERS × INTRA_OP_THREADS were decided: set, or chosen from the model's measured cost. */
  sizing: string;
  /** Texts per ONNX Runtime run that cost least per token at warm-up: a worker's runs hold at most this many. */
  runRows: number;
  /** The fixed cost of one ONNX Runtime run in padded tokens, fitted at warm-up: what a worker weighs against padding. */
  runOverheadTokens: number;
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

/** How a worker cuts a batch of `model` into ONNX Runtime runs of at most `maxTokens` padded tokens. */
export function runLimits(model: ModelDescription, maxTokens: number): RunLimits {
  return { maxRows: model.runRows, maxTokens, overheadTokens: model.runOverheadTokens };
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
  const files = loadModelFiles(config.modelPath, { maxTokens: config.maxTokens, dtype: config.modelDtype, device: config.device, tokenizer: false });
  // Checked before any worker starts: an unknown step is an error of the model folder.
  const preprocess = preprocessorFor(files.textPreprocessing, `config.json in ${files.dir}`);
  const started = performance.now();
  // The hash streams on this thread while the workers load and warm up in theirs.
  const hashing = fileSha256(files.onnxPath);
  hashing.catch(() => undefined); // awaited below; a failed pool start must not leave it unhandled
  const startPool = (sizing: { workers: number; intraOpThreads: number }) => InferencePool.start({
    files,
    device: config.device,
    ...sizing,
    warmupBatchSize: config.maxBatchSize,
    warmupBudgetMs: config.warmupBudgetMs,
    workerFile: internals.workerFile,
  });
  let pool: InferencePool;
  let sizing: WorkerSizing;
  try {
    ({ pool, sizing } = await sizedPool(config, startPool));
  } catch (error) {
    await hashing.catch(() => undefined);
    throw error;
  }
  logger.info({ workers: sizing.workers, intraOpThreads: sizing.intraOpThreads, reason: sizing.reason }, 'inference workers sized');
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
    file: relative(files.dir, files.onnxPath),
    dtype: files.dtype,
    labels: files.labels,
    problemType: files.problemType,
    preprocessing: files.textPreprocessing,
    maxTokens: files.maxTokens,
    device: config.device,
    executionProviders: pool.description.providers,
    workers: pool.workers,
    intraOpThreads: pool.intraOpThreads,
    sizing: sizing.reason,
    runRows: Math.min(pool.description.runRows, config.maxBatchSize),
    runOverheadTokens: pool.description.runOverheadTokens,
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

/**
 * The pool as the settings size it, or, on a CPU with neither WORKERS nor INTRA_OP_THREADS set, as the
 * model's cost says (core/worker-sizing.ts): a probe worker with every core's thread loads and warms up
 * first; a heavy model keeps it, a light one (quick to load again) is started anew, one worker per core.
 */
export async function sizedPool<P extends Pick<InferencePool, 'workers' | 'intraOpThreads' | 'description' | 'close'>>(
  config: Pick<Config, 'workers' | 'intraOpThreads'>, startPool: (sizing: { workers: number; intraOpThreads: number }) => Promise<P>, cpus = availableCpus(),
): Promise<{ pool: P; sizing: WorkerSizing }> {
  const set = configuredSizing(config.workers, config.intraOpThreads, cpus);
  if (set !== undefined) return { pool: await startPool(set), sizing: set };
  const probe = await startPool(probeSizing(cpus));
  const chosen = chooseSizing(cpus, probe.description.msPerToken);
  if (chosen.workers === probe.workers && chosen.intraOpThreads === probe.intraOpThreads) return { pool: probe, sizing: chosen };
  await probe.close();
  return { pool: await startPool(chosen), sizing: chosen };
}
