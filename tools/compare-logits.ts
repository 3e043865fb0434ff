// Parity of two ONNX classifiers on real texts: tokenizes with the service's own TextTokenizer, runs both models
// on the same padded batches with ONNX Runtime (the provider the service would use), and reports the largest
// absolute logit difference, the mean, the largest softmax difference and how often the top labels agree.
// With --padding-check K it also runs the first K texts one by one, unpadded, and reports how far each model's
// batched (padded) logits are from those: a model whose attention mask works gives ~1e-6.
//
//   npx tsx tools/compare-logits.ts --a bench/work/roberta-base-random            # model.onnx vs model_fp16.onnx
//   npx tsx tools/compare-logits.ts --a dirA --b dirB/model.onnx --n 500 --device webgpu --json
//
// Exit status: 0, or 2 when --max-diff / --max-padding-diff is exceeded, or 1 on an error.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { LENGTH_MULTIPLE } from '../inference/protocol.js';
import { loadModelFiles } from '../inference/model-files.js';
import { findOnnxFiles, onnxFileName } from '../inference/onnx-files.js';
import { batchFeeds, padBatch } from '../inference/session.js';
import { TextTokenizer } from '../inference/tokenizer.js';

export type CompareDevice = 'cpu' | 'webgpu' | 'cuda';

export interface CompareOptions {
  /** Model directory (its fp32 model.onnx, at the top or in onnx/) or an .onnx file. */
  a: string;
  /** Model directory or .onnx file; default: model_fp16.onnx beside a. */
  b?: string | undefined;
  /** Texts to run (already loaded). */
  texts: readonly string[];
  /** Texts per batch (padded to the batch's longest, rounded up to a multiple of 8, as the service does). */
  batchSize?: number;
  device?: CompareDevice;
  /** ONNX Runtime threads per session on CPU. */
  threads?: number;
  /** How many of the texts to also run alone, unpadded, for the padding check (0: none). */
  paddingCheck?: number;
  /** Cap on tokens per text (default: the model's limit). */
  maxTokens?: number | undefined;
}

export interface ModelRun {
  onnx: string;
  providers: string[];
  sessionMs: number;
  runMs: number;
  /** Largest |batched logits - logits of the text run alone| over the padding-check texts; null if not run. */
  paddingMaxAbsDiff: number | null;
}

export interface CompareResult {
  texts: number;
  labels: string[];
  device: CompareDevice;
  batchSize: number;
  maxAbsDiff: number;
  meanAbsDiff: number;
  maxProbDiff: number;
  /** Share of texts whose highest-scoring label is the same under both models. */
  labelAgreement: number;
  worst: { index: number; text: string; a: number[]; b: number[] } | null;
  a: ModelRun;
  b: ModelRun;
}

/** The fp32 file of a model directory (model.onnx, at its top or in onnx/), or the file itself. */
export function onnxFileOf(path: string): string {
  const absolute = resolve(path);
  if (!(existsSync(absolute) && statSync(absolute).isDirectory())) return absolute;
  return join(absolute, findOnnxFiles(absolute).find((file) => file.dtype === 'fp32')?.file ?? onnxFileName('fp32'));
}

/** Texts of a JSONL file ({"text": ...} a line) or of a plain text file (one a line). */
export function readTexts(path: string, limit = Infinity): string[] {
  const lines = readFileSync(path, 'utf8').split('\n').filter((line) => line.trim() !== '');
  const texts = path.endsWith('.jsonl') || path.endsWith('.json')
    ? lines.map((line) => (JSON.parse(line) as { text?: unknown }).text).filter((text): text is string => typeof text === 'string' && text !== '')
    : lines;
  return texts.slice(0, limit);
}

interface Batch {
  start: number;
  rows: number;
  length: number;
  feeds: Record<string, ort.Tensor>;
}

/** Texts start..start+rows as the service lays out a run (inference/session.ts), padded to a multiple of 8 or exactly. */
function makeBatch(encoded: number[][], start: number, rows: number, padId: number, withTypes: boolean, exactLength = false): Batch {
  const slice = encoded.slice(start, start + rows);
  const longest = Math.max(...slice.map((ids) => ids.length));
  const length = exactLength ? longest : Math.ceil(longest / LENGTH_MULTIPLE) * LENGTH_MULTIPLE;
  return { start, rows, length, feeds: batchFeeds(padBatch(slice, length, padId), withTypes) };
}

async function openSession(onnx: string, device: CompareDevice, threads: number) {
  const started = performance.now();
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: [device],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  return { session, ms: performance.now() - started };
}

async function runModel(onnx: string, encoded: number[][], numLabels: number, padId: number, options: Required<Pick<CompareOptions, 'batchSize' | 'device' | 'threads' | 'paddingCheck'>>) {
  const { session, ms: sessionMs } = await openSession(onnx, options.device, options.threads);
  try {
    const withTypes = session.inputNames.includes('token_type_ids');
    const output = session.outputNames.includes('logits') ? 'logits' : session.outputNames[0]!;
    const logits = new Float32Array(encoded.length * numLabels);
    const run = async (batch: Batch): Promise<Float32Array> => {
      const result = await session.run(batch.feeds, [output]);
      const tensor = result[output]!;
      if (tensor.type !== 'float32' || tensor.dims.length !== 2 || tensor.dims[0] !== batch.rows || tensor.dims[1] !== numLabels) {
        throw new Error(`${basename(onnx)}: output ${output} is ${tensor.type} [${tensor.dims.join(', ')}], expected float32 [${batch.rows}, ${numLabels}]`);
      }
      return tensor.data as Float32Array;
    };
    const started = performance.now();
    for (let start = 0; start < encoded.length; start += options.batchSize) {
      const rows = Math.min(options.batchSize, encoded.length - start);
      logits.set(await run(makeBatch(encoded, start, rows, padId, withTypes)), start * numLabels);
    }
    const runMs = performance.now() - started;
    let paddingMaxAbsDiff: number | null = null;
    if (options.paddingCheck > 0) {
      paddingMaxAbsDiff = 0;
      for (let i = 0; i < Math.min(options.paddingCheck, encoded.length); i++) {
        const alone = await run(makeBatch(encoded, i, 1, padId, withTypes, true));
        for (let k = 0; k < numLabels; k++) {
          paddingMaxAbsDiff = Math.max(paddingMaxAbsDiff, Math.abs(alone[k]! - logits[i * numLabels + k]!));
        }
      }
    }
    return { logits, run: { onnx, providers: [options.device], sessionMs, runMs, paddingMaxAbsDiff } satisfies ModelRun };
  } finally {
    await session.release();
  }
}

function softmax(row: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(row));
  const exps = Array.from(row, (x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
  return best;
}

export async function compareLogits(options: CompareOptions): Promise<CompareResult> {
  const onnxA = onnxFileOf(options.a);
  const onnxB = options.b !== undefined ? onnxFileOf(options.b) : join(dirname(onnxA), 'model_fp16.onnx');
  if (options.texts.length === 0) throw new Error('no texts to compare on');
  for (const file of [onnxA, onnxB]) if (!existsSync(file)) throw new Error(`${file} not found`);
  // The tokenizer, labels and length limit come from a's directory, as the service reads them.
  const files = loadModelFiles(onnxA, { maxTokens: options.maxTokens });
  const tokenizer = new TextTokenizer(files.tokenizerJson, files.tokenizerConfig, files.maxTokens);
  const encoded = options.texts.map((text) => tokenizer.encode(text).ids);
  const numLabels = files.labels.length;
  const settings = {
    batchSize: options.batchSize ?? 16,
    device: options.device ?? 'cpu',
    threads: options.threads ?? Math.max(1, Math.min(4, availableParallelism())),
    paddingCheck: options.paddingCheck ?? 0,
  };
  const a = await runModel(onnxA, encoded, numLabels, tokenizer.padId, settings);
  const b = await runModel(onnxB, encoded, numLabels, tokenizer.padId, settings);

  let maxAbsDiff = 0;
  let sumAbsDiff = 0;
  let maxProbDiff = 0;
  let agree = 0;
  let worst: CompareResult['worst'] = null;
  for (let i = 0; i < encoded.length; i++) {
    const rowA = a.logits.subarray(i * numLabels, (i + 1) * numLabels);
    const rowB = b.logits.subarray(i * numLabels, (i + 1) * numLabels);
    let rowMax = 0;
    for (let k = 0; k < numLabels; k++) {
      const diff = Math.abs(rowA[k]! - rowB[k]!);
      if (!Number.isFinite(diff)) throw new Error(`text ${i}: non-finite logits (${rowA.join(',')} vs ${rowB.join(',')})`);
      sumAbsDiff += diff;
      rowMax = Math.max(rowMax, diff);
    }
    if (rowMax > maxAbsDiff || worst === null) {
      maxAbsDiff = Math.max(maxAbsDiff, rowMax);
      worst = { index: i, text: options.texts[i]!.slice(0, 120), a: Array.from(rowA), b: Array.from(rowB) };
    }
    const pa = softmax(rowA);
    const pb = softmax(rowB);
    for (let k = 0; k < numLabels; k++) maxProbDiff = Math.max(maxProbDiff, Math.abs(pa[k]! - pb[k]!));
    if (argmax(rowA) === argmax(rowB)) agree++;
  }
  return {
    texts: encoded.length,
    labels: files.labels,
    device: settings.device,
    batchSize: settings.batchSize,
    maxAbsDiff,
    meanAbsDiff: sumAbsDiff / (encoded.length * numLabels),
    maxProbDiff,
    labelAgreement: agree / encoded.length,
    worst,
    a: a.run,
    b: b.run,
  };
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository's validation tweets (tools/ is one level down). */
export const DEFAULT_TEXTS = resolve(HERE, '..', 'data', 'tweeteval-sentiment', 'validation.jsonl');

const USAGE = `usage: compare-logits --a MODEL [--b MODEL] [--texts FILE] [--n 200] [--batch 16]
         [--device cpu|webgpu|cuda] [--threads N] [--padding-check K] [--max-tokens N]
         [--max-diff X] [--max-padding-diff X] [--json]
MODEL is a model directory (its model.onnx, at the top or in onnx/) or an .onnx file; --b defaults to model_fp16.onnx beside --a.`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      a: { type: 'string' },
      b: { type: 'string' },
      texts: { type: 'string', default: DEFAULT_TEXTS },
      n: { type: 'string', default: '200' },
      batch: { type: 'string', default: '16' },
      device: { type: 'string', default: 'cpu' },
      threads: { type: 'string' },
      'padding-check': { type: 'string', default: '0' },
      'max-tokens': { type: 'string' },
      'max-diff': { type: 'string' },
      'max-padding-diff': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || values.a === undefined) {
    console.error(USAGE);
    return values.help ? 0 : 1;
  }
  const int = (name: string, text: string | undefined, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new RangeError(`--${name} must be an integer ≥ ${min}, got ${text}`);
    return n;
  };
  const device = values.device as CompareDevice;
  if (!['cpu', 'webgpu', 'cuda'].includes(device)) throw new RangeError(`--device must be cpu, webgpu or cuda, got ${values.device}`);
  const result = await compareLogits({
    a: values.a,
    b: values.b,
    texts: readTexts(values.texts, int('n', values.n, 1)),
    batchSize: int('batch', values.batch, 1),
    device,
    threads: values.threads !== undefined ? int('threads', values.threads, 1) : undefined,
    paddingCheck: int('padding-check', values['padding-check'], 0),
    maxTokens: values['max-tokens'] !== undefined ? int('max-tokens', values['max-tokens'], 3) : undefined,
  });
  const lines = [
    `a: ${result.a.onnx} (session ${result.a.sessionMs.toFixed(0)} ms, run ${result.a.runMs.toFixed(0)} ms)`,
    `b: ${result.b.onnx} (session ${result.b.sessionMs.toFixed(0)} ms, run ${result.b.runMs.toFixed(0)} ms)`,
    `${result.texts} texts on ${result.device}, batches of ${result.batchSize}: max |a - b| logit ${result.maxAbsDiff.toPrecision(4)}, ` +
      `mean ${result.meanAbsDiff.toPrecision(3)}, max softmax diff ${result.maxProbDiff.toPrecision(3)}, ` +
      `top label agrees on ${(result.labelAgreement * 100).toFixed(1)}%`,
  ];
  if (result.a.paddingMaxAbsDiff !== null) {
    lines.push(`padding check: max |padded batch - alone| logit a ${result.a.paddingMaxAbsDiff.toPrecision(3)}, b ${result.b.paddingMaxAbsDiff!.toPrecision(3)}`);
  }
  for (const line of lines) console.error(line);
  if (values.json) console.log(JSON.stringify(result));
  let status = 0;
  if (values['max-diff'] !== undefined && !(result.maxAbsDiff <= Number(values['max-diff']))) {
    console.error(`max |a - b| ${result.maxAbsDiff} is above --max-diff ${values['max-diff']}`);
    status = 2;
  }
  const paddingLimit = values['max-padding-diff'];
  if (paddingLimit !== undefined && result.a.paddingMaxAbsDiff !== null) {
    const worstPadding = Math.max(result.a.paddingMaxAbsDiff, result.b.paddingMaxAbsDiff ?? 0);
    if (!(worstPadding <= Number(paddingLimit))) {
      console.error(`padding changes logits by ${worstPadding}, above --max-padding-diff ${paddingLimit}`);
      status = 2;
    }
  }
  return status;
}

// Run as a program (tsx, node dist/…, or a bundle named after it), not when imported.
if (/^compare-logits\.(ts|js|mjs)$/.test(basename(process.argv[1] ?? ''))) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error: unknown) => {
    console.error(`compare-logits: ${(error as Error).message ?? error}`);
    process.exitCode = 1;
  });
}
