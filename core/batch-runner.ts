// One batch of the live queue through its model's backend: the worker tokenizes and scores it in one task
// (inference/score-batch.ts); here each text's answer is cut from the worker's arrays (views, not copies),
// the token guess learns from the exact counts, and the batch is counted once: size, tokens, runs, worker
// times and, for the callers' own texts, the predictions (prediction-tally.ts).
import { TEXT_TOO_MANY_TOKENS } from '../inference/protocol.js';
import { TOO_MANY_TOKENS, type ScoredText, type TextOutcome } from './call-sinks.js';
import type { ServiceMetrics } from './metrics.js';
import { runLimits, type ModelDescription, type ServedModel } from './model.js';
import { PredictionTally } from './prediction-tally.js';
import { argmax, type TextResult } from './results.js';

/** A queued text: what its batch's worker needs of it. */
export interface QueuedText {
  text: string;
  /** Index into TRUNCATIONS. */
  truncation: number;
  /** A caller's text, not a variant of one being explained: its answer is monitored and may be shadowed. */
  counted: boolean;
}

/** A batch the live model answered, as a shadow candidate sees it once its answers are decided. */
export interface LiveBatch {
  texts: readonly { readonly text: string; readonly counted: boolean }[];
  /** Each text's answer, or a marker where it was not run. */
  outcomes: readonly (TextResult | symbol)[];
  model: ModelDescription;
  /** The batch's time in its worker, ms. */
  ms: number;
}

/** What may watch the live batches (core/shadow.ts): it is offered one only while `active`. */
export interface LiveBatchTap {
  readonly active: boolean;
  /** Called once the batch's answers have gone to their callers; `liveQueueDepth` is what waits now. */
  offer(batch: LiveBatch, liveQueueDepth: number): void;
}

/** Runs `queued` in a worker of `model`, runs of at most `maxRunTokens` padded tokens; returns each text's outcome and the worker's time. */
export async function runBatch(queued: readonly QueuedText[], model: ServedModel, maxRunTokens: number, metrics: ServiceMetrics): Promise<{ outcomes: TextOutcome[]; ms: number }> {
  const count = queued.length;
  const texts = new Array<string>(count);
  const truncation = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    texts[i] = queued[i]!.text;
    truncation[i] = queued[i]!.truncation;
  }
  const { labels, problemType } = model.description;
  let scored;
  try {
    scored = await model.backend.score(texts, truncation, runLimits(model.description, maxRunTokens));
  } catch (error) {
    if ((error as { code?: string }).code === 'WORKER_CRASHED') metrics.countRejection('worker_crashed', count);
    throw error;
  }
  const width = labels.length;
  const tally = new PredictionTally(width, problemType);
  const outcomes = new Array<TextOutcome>(count);
  let learnedChars = 0;
  let learnedTexts = 0;
  let learnedTokens = 0;
  for (let i = 0; i < count; i++) {
    if (scored.status[i] === TEXT_TOO_MANY_TOKENS) {
      outcomes[i] = TOO_MANY_TOKENS;
      continue;
    }
    const scores = scored.scores.subarray(i * width, (i + 1) * width);
    const truncated = scored.truncated[i] === 1;
    const result: ScoredText = { labelIndex: argmax(scores), scores, logits: scored.logits.subarray(i * width, (i + 1) * width), truncated, inferenceMs: scored.ms };
    outcomes[i] = result;
    if (queued[i]!.counted) tally.add(result);
    if (!truncated) {
      learnedChars += texts[i]!.length;
      learnedTexts++;
      learnedTokens += scored.tokens[i]!;
    }
  }
  model.estimate.learn(learnedChars, learnedTexts, learnedTokens);
  metrics.countBatch(count, scored);
  metrics.countPredictions(model.description, tally);
  return { outcomes, ms: scored.ms };
}
