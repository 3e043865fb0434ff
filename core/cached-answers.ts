// The predictor's questions to the prediction cache for one call: the answers it holds (in memory, then in
// Redis when configured), counted as predictions returned like computed ones, and the positions of the
// texts still to compute.
import type { Truncation } from '../inference/protocol.js';
import type { ServiceMetrics } from './metrics.js';
import type { ModelDescription } from './model.js';
import type { PredictionCache } from './prediction-cache.js';
import { PredictionTally } from './prediction-tally.js';
import type { TextResult } from './results.js';

export class CachedAnswers {
  readonly #cache: PredictionCache | undefined;
  readonly #metrics: ServiceMetrics;

  constructor(cache: PredictionCache | undefined, metrics: ServiceMetrics) {
    this.#cache = cache;
    this.#metrics = metrics;
  }

  /**
   * Fills `results` with the answers the caches hold for `model`, then calls `next` with the positions of
   * the texts still to compute, or undefined when there is no cache (all of them): at once when the memory
   * answers, after the round trip when Redis is asked.
   */
  lookup(model: ModelDescription, texts: readonly string[], truncation: Truncation, results: (TextResult | undefined)[], next: (missing: number[] | undefined) => void): void {
    const cache = this.#cache;
    const missing = this.#fromMemory(model, texts, truncation, results);
    if (cache === undefined || missing === undefined || missing.length === 0 || !cache.remote) {
      next(missing);
      return;
    }
    // Redis failures are misses (lookupRemote never rejects).
    void cache.lookupRemote(texts, results, model.sha256, truncation).then(() => next(this.#countRemoteHits(model, results, missing)));
  }

  /**
   * Fills `results` with the answers the in-memory cache holds; returns the positions of the texts still to
   * compute, or undefined when there is no cache (all of them).
   */
  #fromMemory(model: ModelDescription, texts: readonly string[], truncation: Truncation, results: (TextResult | undefined)[]): number[] | undefined {
    if (this.#cache === undefined) return undefined;
    const { found, hits } = this.#cache.lookup(texts, model.sha256, truncation);
    const missing: number[] = [];
    const tally = hits > 0 ? new PredictionTally(model.labels.length, model.problemType) : undefined;
    for (let i = 0; i < texts.length; i++) {
      const result = found[i];
      if (result === undefined) missing.push(i);
      else {
        results[i] = result;
        tally!.add(result);
      }
    }
    if (tally !== undefined) this.#metrics.countPredictions(model, tally);
    return missing;
  }

  /** The positions Redis did not answer either, once it filled `results`; its answers counted. */
  #countRemoteHits(model: ModelDescription, results: (TextResult | undefined)[], positions: number[]): number[] {
    const tally = new PredictionTally(model.labels.length, model.problemType);
    const missing = positions.filter((i) => {
      const result = results[i];
      if (result !== undefined) tally.add(result);
      return result === undefined;
    });
    if (missing.length < positions.length) this.#metrics.countPredictions(model, tally);
    return missing;
  }
}
