// Lays a model directory of this service out as transformers.js reads a local model: <root>/<id>/config.json,
// tokenizer.json, tokenizer_config.json and onnx/model<suffix>.onnx, the file the service serves for the same
// dtype setting (MODEL_DTYPE), under the name transformers.js loads for that dtype (onnx/model.onnx for fp32,
// onnx/model_quantized.onnx for q8...). The weights and tokenizer are symlinks to the service's own files;
// only the two small JSON files are written, with two changes a transformers.js user would make by hand:
//   - config.json's model_type must name a family transformers.js knows for sequence classification (it
//     picks the model class by it, and refuses any other). The shipped model says "tweet-cnn-ngram-ensemble";
//     it takes input_ids + attention_mask as BERT does, so an unknown family is laid out as "bert" (whose
//     class feeds token_type_ids only when the graph has that input).
//   - tokenizer_config.json's model_max_length is set to the service's token limit where it is missing or
//     the "no limit" sentinel (1e30, as in the RoBERTa tokenizers): transformers.js truncates at
//     model_max_length, the service at the limit loadModelFiles derives; without it a long text would reach
//     the model with more positions than it has. (Even so transformers.js cuts the ids after adding the
//     special tokens, dropping the closing one the service keeps: texts over the limit score differently.)
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoModelForSequenceClassification } from '@huggingface/transformers';
import { loadModelFiles } from '../inference/model-files.js';
import { onnxFileName, type Dtype, type ModelDtype } from '../inference/onnx-files.js';
import { BENCH_ROOT } from './paths.js';

export const LAYOUT_ROOT = join(BENCH_ROOT, 'bench/work/transformersjs');

export interface TransformersJsModel {
  /** env.localModelPath. */
  root: string;
  /** The model id to give pipeline(): a folder of `root`. */
  id: string;
  /** The labels in logit order, as the service reads them. */
  labels: string[];
  /** The dtype to give pipeline(): the one of the service's file. */
  dtype: Dtype;
  /** model_type in the laid-out config.json, and in the original when it differs. */
  modelType: string;
  originalModelType?: string;
}

/** The families AutoModelForSequenceClassification maps to a class (its mapping is a static property). */
function knownFamily(type: unknown): boolean {
  const mappings = (AutoModelForSequenceClassification as unknown as { MODEL_CLASS_MAPPINGS: Map<string, unknown>[] }).MODEL_CLASS_MAPPINGS;
  return typeof type === 'string' && mappings.some((mapping) => mapping.has(type));
}

/**
 * Lays `modelPath` (a directory or its ONNX file) out under `root`, with the ONNX file the service chooses for
 * `dtype` on a CPU. The folder is named by a hash of what it holds, and made in a temporary folder then
 * renamed: replicas started at once share it, and a changed model gets a new one.
 */
export function layOutForTransformersJs(modelPath: string, { dtype = 'auto', root = LAYOUT_ROOT }: { dtype?: ModelDtype; root?: string } = {}): TransformersJsModel {
  const files = loadModelFiles(modelPath, { tokenizer: false, dtype, device: 'cpu' });
  const onnxFile = `onnx/${onnxFileName(files.dtype)}`;
  const config = { ...files.config };
  const originalModelType = typeof config.model_type === 'string' ? config.model_type : undefined;
  if (!knownFamily(config.model_type)) config.model_type = 'bert';
  const tokenizerConfig = { ...files.tokenizerConfig };
  const maxLength = Number(tokenizerConfig.model_max_length);
  if (!(maxLength > 0 && maxLength <= 1_000_000)) tokenizerConfig.model_max_length = files.maxTokens;
  const links = { 'tokenizer.json': join(files.dir, 'tokenizer.json'), [onnxFile]: files.onnxPath };
  const written = { 'config.json': JSON.stringify(config, null, 2), 'tokenizer_config.json': JSON.stringify(tokenizerConfig, null, 2) };
  const id = `${files.dir.split('/').pop()}-${createHash('sha256').update(JSON.stringify({ links, written })).digest('hex').slice(0, 12)}`;
  const result = { root, id, labels: files.labels, dtype: files.dtype, modelType: String(config.model_type), ...(originalModelType !== config.model_type ? { originalModelType: originalModelType ?? '(none)' } : {}) };
  if (existsSync(join(root, id, onnxFile))) return result;

  mkdirSync(root, { recursive: true });
  const staging = mkdtempSync(join(root, `.${id}-`));
  try {
    mkdirSync(join(staging, 'onnx'));
    for (const [name, target] of Object.entries(links)) symlinkSync(target, join(staging, name));
    for (const [name, text] of Object.entries(written)) writeFileSync(join(staging, name), `${text}\n`);
    renameSync(staging, join(root, id));
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another process made the same folder first: its content is the same (the name is its hash).
    if (!existsSync(join(root, id, onnxFile))) throw error;
  }
  return result;
}
