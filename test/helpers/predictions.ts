// Comparing predictions. The same text gives the same label and, to float32 rounding, the same scores,
// whatever batch it ran in: padding and batch shape change the order of float additions inside ONNX
// Runtime's kernels (last-bit differences around 1e-7), never which row a result belongs to. Texts in the
// tests differ in their scores by far more than the tolerance, so a mix-up cannot pass.
import type { Test } from 'tap';
import type { RestPrediction as Prediction } from '../../core/rest-prediction.js';

export const SCORE_TOLERANCE = 1e-5;


/** The same label, truncation, labels in the same order, and score (or value) and scores within SCORE_TOLERANCE. */
export function samePrediction(a: Prediction, b: Prediction): boolean {
  const compared = (p: Prediction) => ({ label: p.label, truncated: p.truncated, score: p.score ?? p.value ?? 0, scores: p.scores });
  return sameWithinTolerance(compared(a), compared(b));
}

export function assertSamePrediction(t: Test, actual: Prediction, expected: Prediction, message: string): void {
  t.ok(samePrediction(actual, expected), `${message}: ${JSON.stringify(actual)} matches ${JSON.stringify(expected)}`);
}

// Any JSON answer against another: the same shape, strings and labels exactly, numbers within SCORE_TOLERANCE.
// Two services may choose different intra-op threads at warm-up, and a kernel summing in another order
// moves the last bits of a float32 score, so scores compared across processes need the tolerance too.
export function sameWithinTolerance(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= SCORE_TOLERANCE;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameWithinTolerance(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = Object.keys(a);
    return keys.join() === Object.keys(b).join()
      && keys.every((key) => sameWithinTolerance((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
  }
  return a === b;
}
