// The service's own answer for one text, as POST /api/predict sends it and every other way that speaks the
// service's shape writes it (the batch route, the NDJSON stream, the command line's outputs): every label's
// probability, the most likely one, and whether the text was cut.
import type { TextResult } from './results.js';

export interface RestPrediction {
  label: string;
  score: number;
  scores: Record<string, number>;
  truncated: boolean;
}

export function restPrediction(labels: readonly string[], result: TextResult): RestPrediction {
  const scores: Record<string, number> = {};
  for (let k = 0; k < labels.length; k++) scores[labels[k]!] = result.probabilities[k]!;
  return { label: labels[result.labelIndex]!, score: result.probabilities[result.labelIndex]!, scores, truncated: result.truncated };
}
