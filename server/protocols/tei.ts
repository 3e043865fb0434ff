// Hugging Face Text Embeddings Inference (TEI) as its OpenAPI document defines it
// (docs/specs/text-embeddings-inference/openapi.json): pure mappings between TEI's request and response
// objects and the predictor's texts and results. No HTTP and no limits here: the routes (server/routes/tei.ts)
// hand the texts to core/text-checks.ts and predictor.predict like every other way in.
import { HttpError } from '../http-errors.js';
import type { ModelDescription } from '../../core/model.js';
import type { PredictorLimits, TextResult, Truncation } from '../../core/predictor.js';
import type { Dtype } from '../../inference/onnx-files.js';
import type { TokenDetail } from '../../inference/protocol.js';

const unsupported = (message: string) => new HttpError('UNSUPPORTED_INPUT', message);

/** TEI's PredictInput: a text, a pair of texts, or a batch of one- or two-text lists. */
export type TeiPredictInput = string | string[] | string[][];

export interface TeiPredictRequest {
  inputs: TeiPredictInput;
  raw_scores?: boolean;
  truncate?: boolean | null;
  truncation_direction?: 'Left' | 'Right' | 'left' | 'right';
}

export interface TeiPrediction {
  label: string;
  score: number;
}

/**
 * The texts of a PredictInput, and whether the answer is a batch (a list of lists). A pair is what TEI sends
 * to a cross-encoder (two texts read together); this model reads one text, so a pair is refused rather than
 * silently joined or split (422, like TEI's own refusals of inputs it cannot read).
 */
export function teiPredictTexts(inputs: TeiPredictInput): { texts: string[]; batch: boolean } {
  if (typeof inputs === 'string') return { texts: [inputs], batch: false };
  if (inputs.every((item): item is string => typeof item === 'string')) {
    throw unsupported(inputs.length === 2
      ? 'inputs is a pair of texts; this model classifies single texts: send a string, or a batch [["text"], ["text"]]'
      : `inputs is a list of ${inputs.length} strings, which TEI reads as a pair of texts only when it has 2; send a string, or a batch [["text"], ["text"]]`);
  }
  const texts = inputs.map((item, i) => {
    if (item.length !== 1) {
      throw unsupported(item.length === 2
        ? `inputs[${i}] is a pair of texts; this model classifies single texts: each batch item is a one-text list ["text"]`
        : `inputs[${i}] holds ${item.length} texts; each batch item is a one-text list ["text"]`);
    }
    return item[0]!;
  });
  return { texts, batch: true };
}

/** Where a text of a PredictInput sits, for error messages (inputs, inputs[3][0]). */
export function teiTextField(batch: boolean): (i: number) => string {
  return batch ? (i) => `inputs[${i}][0]` : () => 'inputs';
}

/**
 * TEI's truncation options as the predictor's. TEI does not truncate unless asked (`truncate` defaults to
 * false, and null means the default): a text with more tokens than the model reads is refused (413).
 */
export function teiTruncation(truncate: boolean | null | undefined, direction: string | undefined): Truncation {
  if (truncate !== true) return 'none';
  return direction?.toLowerCase() === 'left' ? 'left' : 'right';
}

/**
 * Every label with its score, highest first, as TEI sorts them: the head's scores (a softmax probability; a
 * sigmoid probability per label for a multi-label model, where TEI would softmax them; a regression's raw
 * value), or the raw logits with raw_scores.
 */
export function teiPredictions(labels: readonly string[], result: TextResult, rawScores: boolean): TeiPrediction[] {
  return labelledScores(labels, rawScores ? result.logits : result.scores);
}

/** Labels with their scores, highest first (ties keep the model's label order). */
export function labelledScores(labels: readonly string[], scores: ArrayLike<number>): TeiPrediction[] {
  const out: TeiPrediction[] = [];
  for (let k = 0; k < labels.length; k++) out.push({ label: labels[k]!, score: scores[k]! });
  return out.sort((a, b) => b.score - a.score);
}

/** TEI's answer: a list of predictions for one text, a list of such lists for a batch. */
export function teiPredictResponse(labels: readonly string[], results: readonly TextResult[], batch: boolean, rawScores: boolean): TeiPrediction[] | TeiPrediction[][] {
  const lists = results.map((result) => teiPredictions(labels, result, rawScores));
  return batch ? lists : lists[0]!;
}

/** TEI names its float dtypes float32 and float16; a quantized file keeps its transformers.js name (q8...). */
function teiDtype(dtype: Dtype): string {
  return dtype === 'fp32' ? 'float32' : dtype === 'fp16' ? 'float16' : dtype;
}

/**
 * TEI's Info object, with this service's true values, and two of its own: the classifier's problem_type
 * (what its scores mean) and the text_preprocessing steps applied before the model reads a text.
 */
export function teiInfo(model: ModelDescription, limits: PredictorLimits, version: string) {
  const id2label: Record<string, string> = {};
  const label2id: Record<string, number> = {};
  model.labels.forEach((label, i) => { id2label[String(i)] = label; label2id[label] = i; });
  return {
    model_id: model.name,
    model_sha: model.sha256,
    model_dtype: teiDtype(model.dtype),
    model_type: { classifier: { id2label, label2id, problem_type: model.problemType } },
    text_preprocessing: model.preprocessing,
    max_concurrent_requests: limits.maxQueue,
    max_input_length: model.maxTokens,
    max_batch_tokens: limits.maxBatchTokens,
    max_batch_requests: limits.maxBatchSize,
    max_client_batch_size: limits.maxClientBatch,
    // The TEI routes truncate only when a request says truncate: true.
    auto_truncate: false,
    tokenization_workers: model.workers,
    version,
    served_model_name: model.name,
  };
}

/**
 * TEI's SimpleToken lists, one per text (TEI answers a list of lists even for one text). The tokenizer
 * binding gives no character offsets: start and stop are null, as SimpleToken allows.
 */
export function teiTokens(tokenized: readonly TokenDetail[][]) {
  return tokenized.map((tokens) => tokens.map(({ id, text, special }) => ({ id, text, special, start: null, stop: null })));
}

/** DecodeRequest.ids (one sequence of ids, or several) as a list of sequences. */
export function teiDecodeSequences(ids: number[] | number[][]): number[][] {
  if (ids.length === 0) return [[]];
  return ids.every((id): id is number => typeof id === 'number') ? [ids] : ids;
}

/**
 * Decodes sequences with `decode`, answering "" for an empty one itself: the tokenizer refuses an empty
 * list of ids, and no ids are no text.
 */
export async function teiDecode(sequences: number[][], decode: (ids: number[][]) => Promise<string[]>): Promise<string[]> {
  const filled = sequences.filter((ids) => ids.length > 0);
  const texts = filled.length > 0 ? await decode(filled) : [];
  let next = 0;
  return sequences.map((ids) => (ids.length > 0 ? texts[next++]! : ''));
}
