// The Hugging Face Inference API's text-classification task (what `@huggingface/inference`'s
// textClassification and huggingface_hub's InferenceClient.text_classification post to an endpoint URL):
// `{inputs, parameters: {top_k, function_to_apply}}` in, a list of `{label, score}` lists out, one per input,
// highest score first. Pure mappings; the route is server/routes/hf.ts.
import type { TextResult } from '../../core/predictor.js';
import type { HeadShape } from '../../core/rest-prediction.js';
import { activate, activationOf } from '../../inference/model-head.js';
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
 * Scores as transformers' text-classification pipeline computes them: `function_to_apply` over the logits,
 * by default the model head's own (softmax for single-label, sigmoid for multi-label, none for a regression:
 * the scores every other route reports); then the top_k most likely labels (all of them by default).
 */
export function hfClassification(model: HeadShape, result: TextResult, parameters: HfTextClassificationRequest['parameters'] = {}): TeiPrediction[] {
  const own = activationOf(model.problemType);
  const transform = parameters.function_to_apply ?? own;
  const scores = transform === own ? result.scores : activate(transform, result.logits, result.logits.length);
  const sorted = labelledScores(model.labels, scores);
  return parameters.top_k === undefined ? sorted : sorted.slice(0, parameters.top_k);
}
