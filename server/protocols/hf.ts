// The Hugging Face Inference API's text-classification task (what `@huggingface/inference`'s
// textClassification and huggingface_hub's InferenceClient.text_classification post to an endpoint URL):
// `{inputs, parameters: {top_k, function_to_apply}}` in, a list of `{label, score}` lists out, one per input,
// highest score first. Pure mappings; the route is server/routes/hf.ts.
import type { TextResult } from '../../core/predictor.js';
import { labelledScores, type TeiPrediction } from './tei.js';

/** @huggingface/tasks' ClassificationOutputTransform. */
export type FunctionToApply = 'softmax' | 'sigmoid' | 'none';

export interface HfTextClassificationRequest {
  inputs: string | string[];
  parameters?: { top_k?: number; function_to_apply?: FunctionToApply };
}

export function hfTexts(inputs: string | string[]): string[] {
  return typeof inputs === 'string' ? [inputs] : inputs;
}

/**
 * Scores as transformers' text-classification pipeline computes them: softmax over the logits (the
 * default for a single-label model: the probabilities every other route reports), sigmoid of each logit,
 * or the raw logits; then the top_k most likely labels (all of them by default).
 */
export function hfClassification(labels: readonly string[], result: TextResult, parameters: HfTextClassificationRequest['parameters'] = {}): TeiPrediction[] {
  const transform = parameters.function_to_apply ?? 'softmax';
  const scores = transform === 'softmax' ? result.probabilities
    : transform === 'sigmoid' ? Array.from(result.logits, (logit) => 1 / (1 + Math.exp(-logit)))
      : result.logits;
  const sorted = labelledScores(labels, scores);
  return parameters.top_k === undefined ? sorted : sorted.slice(0, parameters.top_k);
}
