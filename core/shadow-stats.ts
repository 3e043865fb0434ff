// What shadow scoring has learned of a candidate against the live model: texts compared, agreement, the
// confusion table (candidate label × live label) and each model's worker time per text; for a regression
// head, the mean absolute difference of their values. Kept per live model version: a swapped-in live model
// starts a new comparison.
import type { ModelDescription } from './model.js';
import type { ShadowMetrics } from './shadow-metrics.js';

export interface ShadowComparison {
  compared: number;
  /** Share of the compared texts given the same label by both (null before the first, and for a regression). */
  agreement: number | null;
  /** Compared texts by the candidate's label, then the live model's. */
  confusion: Record<string, Record<string, number>>;
  /** Regression heads: the mean of |candidate value − live value| over the compared texts. */
  meanAbsoluteDifference?: number | null;
  /** Worker time per compared text (its share of its batch), ms. */
  latencyMs: { live: number | null; candidate: number | null };
}

/** One compared text: its labels (indices into the live model's labels) or values, and each model's time on it. */
export interface ComparedText {
  live: number;
  candidate: number;
  liveMs: number;
  candidateMs: number;
}

export class ShadowStats {
  /** The live model version these compare against. */
  readonly liveSha256: string;
  readonly #labels: readonly string[];
  readonly #regression: boolean;
  readonly #metrics: ShadowMetrics;
  /** Counts by [candidate label][live label], both as indices into the live model's labels. */
  readonly #confusion: Float64Array;
  #compared = 0;
  #agreed = 0;
  #absoluteDifference = 0;
  #liveMs = 0;
  #candidateMs = 0;

  constructor(live: ModelDescription, metrics: ShadowMetrics) {
    this.liveSha256 = live.sha256;
    this.#labels = live.labels;
    this.#regression = live.problemType === 'regression';
    this.#metrics = metrics;
    this.#confusion = new Float64Array(live.labels.length * live.labels.length);
  }

  /** A label's index among the live model's labels (the candidate has the same set, maybe in another order). */
  labelIndex(label: string): number {
    return this.#labels.indexOf(label);
  }

  /** A candidate batch's comparisons, counted here and in the metrics once. */
  record(texts: readonly ComparedText[]): void {
    const width = this.#labels.length;
    const cells = new Float64Array(width * width);
    let agreed = 0;
    let liveMs = 0;
    let candidateMs = 0;
    for (const text of texts) {
      if (this.#regression) this.#absoluteDifference += Math.abs(text.candidate - text.live);
      else {
        cells[text.candidate * width + text.live]!++;
        if (text.candidate === text.live) agreed++;
      }
      liveMs += text.liveMs;
      candidateMs += text.candidateMs;
    }
    this.#compared += texts.length;
    this.#agreed += agreed;
    this.#liveMs += liveMs;
    this.#candidateMs += candidateMs;
    const metrics = this.#metrics;
    metrics.compared.inc(texts.length);
    if (agreed > 0) metrics.agreed.inc(agreed);
    metrics.inferenceSeconds.labels('live').inc(liveMs / 1000);
    metrics.inferenceSeconds.labels('candidate').inc(candidateMs / 1000);
    for (let c = 0; c < width; c++) {
      for (let l = 0; l < width; l++) {
        const n = cells[c * width + l]!;
        if (n === 0) continue;
        this.#confusion[c * width + l]! += n;
        metrics.confusion.labels(this.#labels[c]!, this.#labels[l]!).inc(n);
      }
    }
  }

  report(): ShadowComparison {
    const n = this.#compared;
    const confusion: Record<string, Record<string, number>> = {};
    const width = this.#labels.length;
    if (!this.#regression) {
      this.#labels.forEach((candidate, c) => {
        confusion[candidate] = Object.fromEntries(this.#labels.map((live, l) => [live, this.#confusion[c * width + l]!]));
      });
    }
    return {
      compared: n,
      agreement: n > 0 && !this.#regression ? this.#agreed / n : null,
      confusion,
      ...(this.#regression ? { meanAbsoluteDifference: n > 0 ? this.#absoluteDifference / n : null } : {}),
      latencyMs: { live: n > 0 ? this.#liveMs / n : null, candidate: n > 0 ? this.#candidateMs / n : null },
    };
  }
}
