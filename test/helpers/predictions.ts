// Comparing predictions. The same text gives the same label and, to float32 rounding, the same scores,
// whatever batch it ran in: padding and batch shape change the order of float additions inside ONNX
// Runtime's kernels (last-bit differences around 1e-7), never which row a result belongs to. Texts in the
// tests differ in their scores by far more than the tolerance, so a mix-up cannot pass.
import type { Test } from 'tap';
import type { RestPrediction as Prediction } from '../../core/rest-prediction.js';

export const SCORE_TOLERANCE = 1e-5;


export function samePrediction(a: Prediction, b: Prediction): boolean {
  if (a.label !== b.label || a.truncated !== b.truncated) return false;
  const labels = Object.keys(a.scores);
  if (labels.join() !== Object.keys(b.scores).join()) return false;
  return Math.abs((a.score ?? a.value ?? 0) - (b.score ?? b.value ?? 0)) <= SCORE_TOLERANCE
    && labels.every((label) => Math.abs(a.scores[label]! - b.scores[label]!) <= SCORE_TOLERANCE);
}

export function assertSamePrediction(t: Test, actual: Prediction, expected: Prediction, message: string): void {
  t.ok(samePrediction(actual, expected), `${message}: ${JSON.stringify(actual)} matches ${JSON.stringify(expected)}`);
}
