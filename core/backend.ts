// What the predictor needs of whatever runs the model: the production InferencePool (inference/pool.ts)
// satisfies it, and the predictor's unit tests drive it with a fake that runs no model at all.
import type { ScoredBatch, TokenDetail, WorkerDescription } from '../inference/protocol.js';
import type { RunLimits } from '../inference/run-plan.js';

export interface ScoringBackend {
  /** Batches that run at once (one per worker). */
  readonly workers: number;
  /** What the backend measured at warm-up: its cost per padded token and the texts per run it prefers. */
  readonly description: WorkerDescription;
  /**
   * Tokenizes and scores one batch. `truncation` holds an index into TRUNCATIONS per text; its runs keep to
   * `runs` (inference/run-plan.ts).
   */
  score(texts: string[], truncation: Uint8Array, runs: RunLimits): Promise<ScoredBatch>;
  /** Every token of each text with its string (TEI's /tokenize). */
  tokenize(texts: string[], addSpecialTokens: boolean): Promise<TokenDetail[][]>;
  /** Token ids back to texts (TEI's /decode). */
  decode(ids: number[][], skipSpecialTokens: boolean): Promise<string[]>;
  /** Finishes the running batches, then stops. */
  close(): Promise<void>;
}
