// What a batch's (or a call's cached) answers add to the monitoring of what the model predicts: the labels
// predicted, the top label's probability (confidence) and the texts cut to the model's length. Counted here
// in plain arrays, in the pass over the answers the predictor makes anyway, then added to the metrics once
// (core/metrics.ts ModelSeries): nothing per text reaches the Prometheus client.
import type { ProblemType } from '../inference/model-head.js';
import { MULTI_LABEL_THRESHOLD, type TextResult } from './results.js';

/** Upper bounds of the confidence histogram: a 3-label softmax's top is at least 1/3, a sigmoid's may be anything. */
export const CONFIDENCE_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1] as const;

export class PredictionTally {
  /** Texts given each label (multi-label: every label at or above the threshold). */
  readonly labels: Int32Array;
  /** Top-label probabilities per CONFIDENCE_BUCKETS bucket (the last one above 1, never used). */
  readonly confidence = new Float64Array(CONFIDENCE_BUCKETS.length + 1);
  confidenceSum = 0;
  confidenceCount = 0;
  truncated = 0;
  readonly #problemType: ProblemType;

  constructor(width: number, problemType: ProblemType) {
    this.labels = new Int32Array(width);
    this.#problemType = problemType;
  }

  add(result: TextResult): void {
    if (result.truncated) this.truncated++;
    // A regression has no label and no probability.
    if (this.#problemType === 'regression') return;
    const { scores } = result;
    if (this.#problemType === 'multi_label_classification') {
      for (let k = 0; k < scores.length; k++) if (scores[k]! >= MULTI_LABEL_THRESHOLD) this.labels[k]!++;
    } else {
      this.labels[result.labelIndex]!++;
    }
    const top = scores[result.labelIndex]!;
    let b = 0;
    while (b < CONFIDENCE_BUCKETS.length && top > CONFIDENCE_BUCKETS[b]!) b++;
    this.confidence[b]!++;
    this.confidenceSum += top;
    this.confidenceCount++;
  }
}
