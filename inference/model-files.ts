// Reads a model directory as a Hugging Face sequence-classification ONNX export lays it out:
// model.onnx (at its top or in onnx/, with the files of other dtypes: inference/onnx-files.ts),
// tokenizer.json, tokenizer_config.json (optional) and config.json with id2label (and problem_type, which
// says what the outputs mean: model-head.ts). Everything a worker or the server needs to know about a model
// is derived here, once.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { problemTypeFrom, type ProblemType } from './model-head.js';
import { chooseOnnxFile, dtypeOfFileName, OnnxFileError, type Dtype, type ModelDtype } from './onnx-files.js';
import type { Device } from './protocol.js';

type JsonObject = Record<string, unknown>;

export interface ModelFiles {
  /** Absolute path of the model directory. */
  dir: string;
  /** Absolute path of the ONNX graph to load (model.onnx, onnx/model_quantized.onnx...). */
  onnxPath: string;
  /** Its dtype, in transformers.js's names (fp32, fp16, q8...). */
  dtype: Dtype;
  /** A display name: config `_name_or_path`, else the directory's name. */
  name: string;
  /** Labels in logit order, from config.json `id2label` (a regression head's outputs are named by it too). */
  labels: string[];
  /** What the outputs mean: config.json `problem_type`, or what transformers assumes without it. */
  problemType: ProblemType;
  /**
   * The text normalization the model's card asks for, by step name, from config.json `text_preprocessing`
   * (empty when it declares none); the core checks the names and applies the steps.
   */
  textPreprocessing: string[];
  /** Longest token sequence the model accepts, special tokens included. */
  maxTokens: number;
  /** tokenizer.json, parsed; empty when loaded with `tokenizer: false` (the workers read it themselves). */
  tokenizerJson: JsonObject;
  tokenizerConfig: JsonObject;
  config: JsonObject;
}

export class ModelFilesError extends Error {
  override name = 'ModelFilesError';
}

/** A tokenizer_config `model_max_length` above this is the "no limit" sentinel (1e30), not a limit. */
const UNSET_MAX_LENGTH = 1_000_000;
/** Position-embedding tables of these families reserve `pad_token_id + 1` leading rows. */
const OFFSET_POSITION_FAMILIES = new Set(['roberta', 'xlm-roberta', 'camembert', 'longformer', 'bertweet']);

export interface LoadModelFilesOptions {
  /** Cap on the tokens per text, below the model's own limit (MAX_TOKENS). */
  maxTokens?: number | undefined;
  /**
   * The ONNX file to serve, by dtype (default auto: inference/onnx-files.ts chooses for `device`). When
   * `modelPath` names the ONNX file itself, that file is served; a dtype other than auto must then be the one
   * its name says (a name that says none takes the dtype given, else fp32).
   */
  dtype?: ModelDtype | undefined;
  /** The device auto chooses for (default cpu). */
  device?: Device | undefined;
  /**
   * Parse tokenizer.json (default). The server passes false: only its workers use the tokenizer, and a large
   * tokenizer.json is not worth parsing on the event loop; its presence is still checked.
   */
  tokenizer?: boolean;
}

/** `modelPath` may name the directory or one of its ONNX files. */
export function loadModelFiles(modelPath: string, options: LoadModelFilesOptions = {}): ModelFiles {
  const absolute = resolve(modelPath);
  if (!existsSync(absolute)) {
    throw new ModelFilesError(`model not found at ${absolute}: set MODEL_PATH to a directory holding model.onnx (or onnx/model.onnx), tokenizer.json and config.json`);
  }
  const namesFile = statSync(absolute).isFile();
  const dir = namesFile ? modelDirOf(absolute) : absolute;
  // The ONNX file is looked for first (a folder without one is not a model); config.json may say its dtype.
  const config = readJson(join(dir, 'config.json'), false);
  const { onnxPath, dtype } = namesFile ? namedFile(absolute, options.dtype ?? 'auto') : chosenFile(dir, options, config);
  requireFile(join(dir, 'config.json'));

  const { tokenizerJson, tokenizerConfig } = options.tokenizer === false
    ? { tokenizerJson: requireFile(join(dir, 'tokenizer.json')), tokenizerConfig: readJson(join(dir, 'tokenizer_config.json'), false) }
    : readTokenizerFiles(dir);
  const labels = labelsFrom(config, dir);
  let problemType: ProblemType;
  try {
    problemType = problemTypeFrom(config.problem_type, labels.length, `config.json in ${dir}`);
  } catch (error) {
    throw new ModelFilesError((error as Error).message);
  }
  const modelLimit = maxTokensFrom(config, tokenizerConfig);
  if (options.maxTokens !== undefined && options.maxTokens > modelLimit) {
    throw new ModelFilesError(`MAX_TOKENS=${options.maxTokens} is above this model's limit of ${modelLimit} tokens`);
  }
  const nameOrPath = config._name_or_path;
  return {
    dir,
    onnxPath,
    dtype,
    name: typeof nameOrPath === 'string' && nameOrPath !== '' ? nameOrPath : basename(dir),
    labels,
    problemType,
    textPreprocessing: preprocessingFrom(config, dir),
    maxTokens: options.maxTokens ?? modelLimit,
    tokenizerJson,
    tokenizerConfig,
    config,
  };
}

// Plain JavaScript run as a worker thread (eval), so it needs no build step or loader.
const HASH_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const hash = createHash('sha256');
const buffer = Buffer.allocUnsafe(1 << 20);
const fd = openSync(workerData, 'r');
try {
  for (let read; (read = readSync(fd, buffer, 0, buffer.length, null)) > 0;) hash.update(buffer.subarray(0, read));
} finally {
  closeSync(fd);
}
parentPort.postMessage(hash.digest('hex'));
`;

/**
 * sha256 of a file, hex, computed in a worker thread: hashing a model of hundreds of megabytes takes a second
 * or more of CPU, which on the event loop would stall every request meanwhile (health checks, predictions of
 * the model still serving during a hot reload).
 */
export function fileSha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(HASH_WORKER, { eval: true, workerData: path });
    worker.once('message', (digest: string) => resolve(digest));
    worker.once('error', reject);
    worker.once('exit', (code) => { if (code !== 0) reject(new ModelFilesError(`hashing ${path} stopped (exit code ${code})`)); });
  });
}

function requireFile(path: string): JsonObject {
  if (!existsSync(path)) throw new ModelFilesError(`${basename(path)} not found in ${dirname(path)}`);
  return {};
}

/** The model directory of a named ONNX file: its folder, or the folder above an onnx/ folder. */
function modelDirOf(onnxPath: string): string {
  const folder = dirname(onnxPath);
  return basename(folder) === 'onnx' && !existsSync(join(folder, 'config.json')) ? dirname(folder) : folder;
}

function namedFile(onnxPath: string, asked: ModelDtype): { onnxPath: string; dtype: Dtype } {
  const named = dtypeOfFileName(onnxPath);
  if (named !== undefined && asked !== 'auto' && asked !== named) {
    throw new ModelFilesError(`MODEL_PATH names ${basename(onnxPath)}, a ${named} file, but MODEL_DTYPE is ${asked}: name the model directory, or set MODEL_DTYPE=${named}`);
  }
  return { onnxPath, dtype: named ?? (asked === 'auto' ? 'fp32' : asked) };
}

function chosenFile(dir: string, options: LoadModelFilesOptions, config: JsonObject): { onnxPath: string; dtype: Dtype } {
  try {
    const { file, dtype } = chooseOnnxFile(dir, options.dtype ?? 'auto', options.device ?? 'cpu', config);
    return { onnxPath: join(dir, file), dtype };
  } catch (error) {
    throw error instanceof OnnxFileError ? new ModelFilesError(error.message) : error;
  }
}

/** The tokenizer files of a model directory, as a worker loads them. */
export function readTokenizerFiles(dir: string): { tokenizerJson: JsonObject; tokenizerConfig: JsonObject } {
  return {
    tokenizerJson: readJson(join(dir, 'tokenizer.json'), true),
    tokenizerConfig: readJson(join(dir, 'tokenizer_config.json'), false),
  };
}

function readJson(path: string, required: true): JsonObject;
function readJson(path: string, required: false): JsonObject;
function readJson(path: string, required: boolean): JsonObject {
  if (!existsSync(path)) {
    if (required) throw new ModelFilesError(`${basename(path)} not found in ${dirname(path)}`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ModelFilesError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ModelFilesError(`${path} must hold a JSON object`);
  return parsed as JsonObject;
}

function labelsFrom(config: JsonObject, dir: string): string[] {
  const id2label = config.id2label;
  if (!id2label || typeof id2label !== 'object') throw new ModelFilesError(`config.json in ${dir} has no id2label`);
  const entries = Object.entries(id2label as Record<string, unknown>);
  const labels: string[] = [];
  for (const [id, label] of entries) {
    const index = Number(id);
    if (!Number.isInteger(index) || index < 0 || index >= entries.length || typeof label !== 'string' || label === '') {
      throw new ModelFilesError(`config.json id2label in ${dir} must map ids 0..n-1 to label names`);
    }
    labels[index] = label;
  }
  if (new Set(labels).size !== labels.length) throw new ModelFilesError(`config.json id2label in ${dir} repeats a label`);
  if (labels.length < 1) throw new ModelFilesError(`config.json id2label in ${dir} names no output`);
  return labels;
}

/**
 * config.json `text_preprocessing`: a step name or a list of them. It lives in config.json because
 * transformers keeps a config's unknown keys through from_pretrained, save_pretrained and push_to_hub, so the
 * declaration travels with the model; a plain export without it is served as it always was.
 */
function preprocessingFrom(config: JsonObject, dir: string): string[] {
  const declared = config.text_preprocessing;
  if (declared === undefined || declared === null) return [];
  const steps = typeof declared === 'string' ? [declared] : declared;
  if (!Array.isArray(steps) || !steps.every((step): step is string => typeof step === 'string' && step !== '')) {
    throw new ModelFilesError(`config.json text_preprocessing in ${dir} must be a step name or a list of step names`);
  }
  return steps;
}

function maxTokensFrom(config: JsonObject, tokenizerConfig: JsonObject): number {
  const fromTokenizer = tokenizerConfig.model_max_length;
  if (typeof fromTokenizer === 'number' && Number.isInteger(fromTokenizer) && fromTokenizer > 0 && fromTokenizer < UNSET_MAX_LENGTH) {
    return fromTokenizer;
  }
  const positions = config.max_position_embeddings;
  if (typeof positions === 'number' && Number.isInteger(positions) && positions > 0) {
    const family = typeof config.model_type === 'string' ? config.model_type : '';
    const padId = typeof config.pad_token_id === 'number' ? config.pad_token_id : 1;
    return OFFSET_POSITION_FAMILIES.has(family) ? positions - (padId + 1) : positions;
  }
  // Neither file states a limit: the common transformer default.
  return 512;
}
