// The service's own answer for one text, as POST /api/predict sends it and every other way that speaks the
// service's shape writes it (the batch route, the NDJSON stream, the command line's outputs). Its shape
// follows the model's head (config.json problem_type):
//   single-label: label and score (the most likely label and its probability), scores (every label's
//                 softmax probability), truncated: the shape this service always had;
//   multi-label:  label and score (the highest-scoring label), labels (every label whose sigmoid probability
//                 is at least 0.5, highest first; may be empty), scores (each label's own probability);
//   regression:   value (the model's output; the first, for a head with several) and scores (every output
//                 by its id2label name); no label.
// With explain, `explanation` lists the text's words with their weights.
import type { ProblemType } from '../inference/model-head.js';
import { labelsAbove, type TextResult, type WordWeight } from './results.js';

export interface RestPrediction {
  label?: string;
  score?: number;
  labels?: string[];
  value?: number;
  scores: Record<string, number>;
  truncated: boolean;
  explanation?: readonly WordWeight[];
}

/** What of the model the answer's shape depends on. */
export interface HeadShape {
  labels: readonly string[];
  problemType: ProblemType;
}

export function restPrediction(model: HeadShape, result: TextResult, explanation?: readonly WordWeight[]): RestPrediction {
  const { labels } = model;
  const scores: Record<string, number> = {};
  for (let k = 0; k < labels.length; k++) scores[labels[k]!] = result.scores[k]!;
  const withExplanation = explanation === undefined ? {} : { explanation };
  if (model.problemType === 'regression') return { value: result.scores[0]!, scores, truncated: result.truncated, ...withExplanation };
  const top = { label: labels[result.labelIndex]!, score: result.scores[result.labelIndex]! };
  if (model.problemType === 'multi_label_classification') {
    return { ...top, labels: labelsAbove(result.scores).map((k) => labels[k]!), scores, truncated: result.truncated, ...withExplanation };
  }
  return { ...top, scores, truncated: result.truncated, ...withExplanation };
}
