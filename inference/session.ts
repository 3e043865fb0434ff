// One ONNX Runtime session for a sequence-classification model: creation on the chosen execution provider
// (with start-up errors that say how to fix them), input checks, and running one padded batch.
import { endianness } from 'node:os';
import * as ort from 'onnxruntime-node';
import { ExecutionProviderError, InferenceFailedError, ModelLoadError } from './errors.js';
import type { Device } from './protocol.js';

if (endianness() !== 'LE') throw new Error('this service builds int64 tensors for little-endian CPUs only');

const REQUIRED_INPUTS = ['input_ids', 'attention_mask'] as const;
const OPTIONAL_INPUTS = new Set(['token_type_ids']);

export interface ClassifierSession {
  session: ort.InferenceSession;
  providers: string[];
  hasTokenTypes: boolean;
  outputName: string;
  numLabels: number;
}

export async function createClassifierSession(onnxPath: string, device: Device, intraOpThreads: number, numLabels: number): Promise<ClassifierSession> {
  const providers = device === 'cpu' ? ['cpu'] : [device];
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(onnxPath, {
      executionProviders: providers,
      intraOpNumThreads: intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Padded shapes come from a bounded set (batch ≤ MAX_BATCH_SIZE, length a multiple of 8), so the
      // per-shape memory plans ONNX Runtime caches stay bounded too.
      enableMemPattern: true,
      enableCpuMemArena: true,
      logSeverityLevel: 3,
      // ONNX Runtime's threads may spin after a run, waiting for more work; here they share the cores with
      // the HTTP thread, other replicas and NGINX, so they wait without spinning: a spinning thread takes
      // the core from whoever has work, and the benchmarks found no throughput that spinning bought.
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    });
  } catch (error) {
    throw sessionError(error as Error, device, onnxPath);
  }
  const inputs = session.inputNames;
  for (const name of REQUIRED_INPUTS) {
    if (!inputs.includes(name)) throw new ModelLoadError(`${onnxPath} has no input named ${name} (inputs: ${inputs.join(', ')})`);
  }
  const unknown = inputs.filter((name) => !(REQUIRED_INPUTS as readonly string[]).includes(name) && !OPTIONAL_INPUTS.has(name));
  if (unknown.length > 0) throw new ModelLoadError(`${onnxPath} needs inputs this service does not provide: ${unknown.join(', ')}`);
  const outputName = session.outputNames.includes('logits') ? 'logits' : session.outputNames[0];
  if (outputName === undefined) throw new ModelLoadError(`${onnxPath} has no output`);
  return { session, providers, hasTokenTypes: inputs.includes('token_type_ids'), outputName, numLabels };
}

function sessionError(error: Error, device: Device, onnxPath: string): Error {
  const message = error.message ?? String(error);
  if (device === 'cuda' && /cuda|providers_shared|shared library/i.test(message)) {
    return new ExecutionProviderError('CUDA execution provider is not installed: reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 (CUDA 12 and cuDNN 9 on the host), or set DEVICE=cpu');
  }
  if (device === 'webgpu' && /adapter|vulkan|webgpu|dawn/i.test(message)) {
    return new ExecutionProviderError('WebGPU execution provider found no GPU adapter: install the Vulkan loader (libvulkan1) and the GPU driver\'s Vulkan ICD, or set DEVICE=cpu');
  }
  return new ModelLoadError(`ONNX Runtime could not load ${onnxPath}: ${firstLine(message)}`);
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 500);
}

/** One batch as ONNX Runtime takes it: int64 `[rows, length]`, right-padded, attention mask 0 on padding. */
export interface PaddedBatch {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  rows: number;
  length: number;
}

/**
 * Lays out a batch of texts given as one id array each, right-padded with `padId` to `length` tokens (a
 * longer row is an error of the caller: rows are cut to the model's limit before they get here).
 */
export function padBatch(rows: readonly ArrayLike<number>[], length: number, padId: number): PaddedBatch {
  const size = rows.length * length;
  const inputIds = new BigInt64Array(size);
  const attentionMask = new BigInt64Array(size);
  // Ids are small non-negative integers: write each into the low 32-bit half of its int64 slot through an
  // Int32Array view (little-endian), which is many times faster than converting every id to a BigInt.
  const inputWords = new Int32Array(inputIds.buffer);
  const attentionWords = new Int32Array(attentionMask.buffer);
  if (padId !== 0) for (let i = 0; i < size; i++) inputWords[2 * i] = padId;
  for (let row = 0; row < rows.length; row++) {
    const ids = rows[row]!;
    const base = row * length;
    for (let j = 0; j < ids.length; j++) {
      inputWords[2 * (base + j)] = ids[j]!;
      attentionWords[2 * (base + j)] = 1;
    }
  }
  return { inputIds, attentionMask, rows: rows.length, length };
}

/**
 * padBatch padded to `length`, or else to the longest text's length rounded up to a multiple of `multiple`
 * (tests, tools, benchmarks).
 */
export function padRows(
  rows: readonly (readonly number[])[],
  padId: number,
  { multiple = 1, length = Math.ceil(Math.max(...rows.map((row) => row.length)) / multiple) * multiple }: { multiple?: number; length?: number } = {},
): PaddedBatch {
  return padBatch(rows, length, padId);
}

/**
 * The input tensors of a padded batch: `input_ids`, `attention_mask`, and `token_type_ids` (all zeros: one
 * text a row) for a model that takes them. The service, its tools and its benchmarks all build them here.
 */
export function batchFeeds(batch: PaddedBatch, withTokenTypes = false): Record<string, ort.Tensor> {
  const dims = [batch.rows, batch.length];
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', batch.inputIds, dims),
    attention_mask: new ort.Tensor('int64', batch.attentionMask, dims),
  };
  if (withTokenTypes) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(batch.rows * batch.length), dims);
  return feeds;
}

/**
 * Runs one batch (each text one id array, at most `paddedLength` ids), padded to `paddedLength`, and returns
 * the model's logits, row by row (the head's activation is applied to the whole batch: score-batch.ts).
 */
export async function classify(
  model: ClassifierSession, rows: readonly ArrayLike<number>[], paddedLength: number, padId: number,
): Promise<Float32Array> {
  const batch = rows.length;
  const feeds = batchFeeds(padBatch(rows, paddedLength, padId), model.hasTokenTypes);
  const outputs = await model.session.run(feeds, [model.outputName]);
  const logits = outputs[model.outputName]!;
  if (logits.dims.length !== 2 || logits.dims[0] !== batch || logits.dims[1] !== model.numLabels) {
    throw new InferenceFailedError(`model output ${model.outputName} has shape [${logits.dims.join(', ')}], expected [${batch}, ${model.numLabels}] (one logit per id2label entry)`);
  }
  // A copy: the tensor's memory belongs to ONNX Runtime (on a GPU, to the device) and is released below.
  const values = Float32Array.from(logits.data as Float32Array);
  for (const tensor of Object.values(outputs)) tensor.dispose?.();
  return values;
}
