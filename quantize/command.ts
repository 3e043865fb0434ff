// `tweet-sentiment quantize DIR` (`npm run quantize -- DIR`): writes the dynamic int8 file of a model
// directory (its fp32 model.onnx, at the top or in onnx/) as model_quantized.onnx beside it, the file
// MODEL_DTYPE=q8 serves and transformers.js loads as dtype q8; then runs both files on real tweets and
// reports how far the int8 probabilities are from fp32's and how often the labels agree.
import { renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { PROJECT_ROOT } from '../core/config.js';
import { findOnnxFiles, onnxFileName } from '../inference/onnx-files.js';
import { compareLogits, readTexts } from '../tools/compare-logits.js';
import { readModel, writeModel } from './onnx-model.js';
import { quantizeModel, type QuantizeSummary } from './rewrite.js';
import type { WeightQuantization } from './weights.js';

/** The validation tweets the report runs on by default, in the repository. */
export const DEFAULT_CHECK_TEXTS = resolve(PROJECT_ROOT, 'data/tweeteval-sentiment/validation.jsonl');

/**
 * Signed 7-bit weights, one scale per output column: the fast u8 × s8 kernels of ONNX Runtime, with no
 * int16 saturation on CPUs without VNNI (quantize/weights.ts), and per-column scales to win back the bit.
 */
export const DEFAULT_WEIGHTS: WeightQuantization = { type: 's8', perChannel: true, reduceRange: true };

export interface QuantizeOptions {
  /** Model directory. */
  model: string;
  /** Output file (default: model_quantized.onnx beside the fp32 file). */
  out?: string | undefined;
  weights?: WeightQuantization;
  /** Texts the report runs on (JSONL with "text", or one text a line); null skips the report. */
  checkTexts?: string | null;
  /** At most this many of them (default: all). */
  checkLimit?: number;
  /** ONNX Runtime threads for the report. */
  threads?: number | undefined;
}

export interface QuantizeCheck {
  texts: string;
  count: number;
  /** Largest |p_int8 − p_fp32| over every text and label. */
  maxProbDiff: number;
  /** Share of texts whose top label is the same. */
  labelAgreement: number;
  /** Texts whose top label differs. */
  disagreements: number;
  maxLogitDiff: number;
}

export interface QuantizeResult {
  /** The fp32 file read and the file written, relative to the model directory. */
  source: string;
  output: string;
  weights: WeightQuantization;
  summary: QuantizeSummary;
  bytes: { source: number; output: number };
  ms: number;
  check: QuantizeCheck | null;
}

export async function quantize(options: QuantizeOptions): Promise<QuantizeResult> {
  const dir = resolve(options.model);
  const fp32 = findOnnxFiles(dir).find((file) => file.dtype === 'fp32');
  if (fp32 === undefined) throw new Error(`no fp32 model in ${dir}: quantize reads ${onnxFileName('fp32')} at its top or in its onnx/ folder`);
  const source = join(dir, fp32.file);
  const output = resolve(options.out ?? join(dirname(source), onnxFileName('q8')));
  const weights = options.weights ?? DEFAULT_WEIGHTS;

  const started = performance.now();
  const model = readModel(source);
  const summary = quantizeModel(model, weights);
  if (summary.quantized === 0) throw new Error(`${fp32.file} has no MatMul or Gemm with a constant float weight: nothing to quantize`);
  // Written beside and renamed: a service serving the old file, or a reader, never sees half a file.
  const partial = `${output}.${process.pid}.partial`;
  let outputBytes: number;
  try {
    outputBytes = writeModel(partial, model);
    renameSync(partial, output);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  const ms = performance.now() - started;

  let check: QuantizeCheck | null = null;
  const textsPath = options.checkTexts === undefined ? DEFAULT_CHECK_TEXTS : options.checkTexts;
  if (textsPath !== null) {
    const texts = readTexts(textsPath, options.checkLimit);
    const compared = await compareLogits({ a: source, b: output, texts, batchSize: 32, threads: options.threads });
    check = {
      texts: textsPath,
      count: compared.texts,
      maxProbDiff: compared.maxProbDiff,
      labelAgreement: compared.labelAgreement,
      disagreements: Math.round((1 - compared.labelAgreement) * compared.texts),
      maxLogitDiff: compared.maxAbsDiff,
    };
  }
  return {
    source: fp32.file,
    output: relative(dir, output),
    weights,
    summary,
    bytes: { source: statSync(source).size, output: outputBytes },
    ms,
    check,
  };
}
