// The warm-up of an inference worker, bounded in time for any model. Running the largest batch shape
// (MAX_BATCH_SIZE texts × the model's token limit) once made the memory arena reach its peak before the
// first request, and cost nothing on the shipped 5 M-parameter model; on a RoBERTa-base-sized one on a CPU
// that one shape took seconds and the service was ready only after tens of seconds. So the shapes grow
// step by step, each run only when its cost, estimated from the previous one, still fits the budget:
//   1 × 8 tokens (a lone request), then rows doubling at a tweet's length (64 tokens) up to MAX_BATCH_SIZE,
//   then the length doubling at MAX_BATCH_SIZE rows up to the model's limit.
// Between the two, every tweet-length shape of more than one token row runs a second time, now that its
// first-run allocations are done: the steady-state time per padded token of the largest is what the service
// learns of the model's cost here (core/batch-budget.ts sizes MAX_BATCH_TOKENS from it), and the rows that
// cost least per padded token are how many texts a worker puts in one ONNX Runtime run at most, and the fixed
// cost of a run, fitted over them, is what a worker weighs against padding when it cuts a batch (run-plan.ts).
// A small model runs every shape well within the budget; a heavy one stops where the next would overrun it.

import { fewestRunsOverhead } from './run-plan.js';

/** One batch shape: rows × padded length. */
export interface WarmupShape {
  rows: number;
  length: number;
}

export interface WarmupReport {
  /** The shapes run, in order, with their times (the calibration run included). */
  ran: (WarmupShape & { ms: number })[];
  /** Shapes left out because their estimated cost would overrun the budget. */
  skipped: WarmupShape[];
  /** Steady-state milliseconds per padded token, at a tweet's length. */
  msPerToken: number;
  /** The most rows per run whose steady-state cost per padded token is within RUN_COST_TOLERANCE of the lowest. */
  runRows: number;
  /**
   * The fixed cost of one run in padded tokens' worth: the steady tweet-length shapes up to runRows rows,
   * fitted as time = overhead + cost per token × tokens. A worker cuts its runs to spend the fewest padded
   * tokens plus these overheads (run-plan.ts). Unmeasured: above any padding (fewestRunsOverhead).
   */
  runOverheadTokens: number;
  ms: number;
}

/** The length texts of a tweet's size are padded to: the first phase's shapes use it. */
export const TWEET_LENGTH = 64;

/**
 * The default of WARMUP_BUDGET_MS, the wall time one worker's warm-up may take: with ONNX Runtime's load it
 * keeps start-up within about 10 s for a RoBERTa-base-sized model here, while a small model still warms
 * every shape.
 */
export const WARMUP_BUDGET_MS = 3000;

/** Steady-state runs of each tweet-length shape, the fastest counted. */
export const STEADY_RUNS = 3;

/**
 * Rows whose cost per token is this close to the cheapest's count as cheap: the warm-up's single timings
 * cannot tell them apart. A worker's runs hold at most the most of them (inference/run-plan.ts).
 */
export const RUN_COST_TOLERANCE = 0.1;

/** The two phases of shapes, smallest first; each shape has at least as many tokens as the one before. */
export function warmupLadder(maxRows: number, maxTokens: number): { tweetLength: WarmupShape[]; longer: WarmupShape[] } {
  const tweetLength: WarmupShape[] = [{ rows: 1, length: Math.min(8, maxTokens) }];
  const length = Math.min(TWEET_LENGTH, maxTokens);
  if (length > tweetLength[0]!.length) tweetLength.push({ rows: 1, length });
  for (let rows = 2; rows < maxRows * 2; rows *= 2) tweetLength.push({ rows: Math.min(rows, maxRows), length });
  const longer: WarmupShape[] = [];
  for (let next = length * 2; next < maxTokens * 2; next *= 2) longer.push({ rows: maxRows, length: Math.min(next, maxTokens) });
  return { tweetLength, longer };
}

/**
 * The time of `next` guessed from a shape already run: proportional to its tokens, and once more to its
 * length when longer (attention grows with the square of the length): an over-estimate, so the budget holds.
 */
export function estimateMs(ran: WarmupShape & { ms: number }, next: WarmupShape): number {
  const tokens = (next.rows * next.length) / (ran.rows * ran.length);
  return ran.ms * tokens * Math.max(1, next.length / ran.length);
}

/**
 * The fixed cost of a run in tokens' worth, from shapes' times fitted as ms = overhead + perToken × tokens by
 * least squares of the relative error (a 0.6 ms shape weighs as much as a 12 ms one: the overhead shows in
 * the small ones). Fewer than two sizes cannot separate the two: undefined.
 */
export function runOverhead(shapes: readonly (WarmupShape & { ms: number })[]): number | undefined {
  const points = shapes.map((shape) => ({ tokens: shape.rows * shape.length, ms: shape.ms, weight: 1 / (shape.ms * shape.ms) }));
  if (new Set(points.map((p) => p.tokens)).size < 2) return undefined;
  let sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const { tokens: x, ms: y, weight: w } of points) {
    sw += w; sx += w * x; sy += w * y; sxx += w * x * x; sxy += w * x * y;
  }
  const perToken = (sw * sxy - sx * sy) / (sw * sxx - sx * sx);
  const overhead = (sy - perToken * sx) / sw;
  if (!(perToken > 0) || !(overhead > 0)) return 0;
  return overhead / perToken;
}

/**
 * Runs the ladder with `run` (one batch of that shape) within `budgetMs`, and measures the cost per token.
 * `now` is injectable so that tests drive the clock.
 */
export async function warmUp(
  run: (shape: WarmupShape) => Promise<void>,
  { maxRows, maxTokens, budgetMs = WARMUP_BUDGET_MS, now = () => performance.now() }:
  { maxRows: number; maxTokens: number; budgetMs?: number; now?: () => number },
): Promise<WarmupReport> {
  const started = now();
  const ran: WarmupReport['ran'] = [];
  const skipped: WarmupShape[] = [];
  const timed = async (shape: WarmupShape) => {
    const t0 = now();
    await run(shape);
    const entry = { ...shape, ms: now() - t0 };
    ran.push(entry);
    return entry;
  };
  /** Runs the shapes in order while each fits; the rest are skipped. Returns the last one run. */
  const climb = async (shapes: WarmupShape[]) => {
    let last = ran.at(-1);
    for (let i = 0; i < shapes.length; i++) {
      const shape = shapes[i]!;
      if (last !== undefined && now() - started + estimateMs(last, shape) > budgetMs) {
        skipped.push(...shapes.slice(i));
        return false;
      }
      last = await timed(shape);
      // The first run of a session pays one-time costs (allocations, the first kernel loads): guessing the
      // next shapes from it would skip most of them. Its second run is what they are guessed from.
      if (ran.length === 1 && now() - started + last.ms <= budgetMs) last = await timed(shape);
    }
    return true;
  };
  const { tweetLength, longer } = warmupLadder(maxRows, maxTokens);
  const climbedAll = await climb(tweetLength);
  // The steady-state pass: each tweet-length shape again while it fits, largest first, so that the cost per
  // token of a full batch (what the budgets are sized from) is measured whatever the budget leaves. A shape
  // runs up to STEADY_RUNS times and counts its fastest run: a sub-millisecond run is easily stretched by a
  // thread preempted on a busy machine, never shortened.
  const length = Math.min(TWEET_LENGTH, maxTokens);
  const steady: (WarmupShape & { ms: number })[] = [];
  const atTweetLength = ran.filter((shape) => shape.length === length);
  for (const first of (atTweetLength.length > 0 ? atTweetLength : ran.slice(-1)).reverse()) {
    let fastest: (WarmupShape & { ms: number }) | undefined;
    for (let run = 0; run < STEADY_RUNS && now() - started + (fastest ?? first).ms <= budgetMs; run++) {
      const timing = await timed({ rows: first.rows, length });
      if (fastest === undefined || timing.ms < fastest.ms) fastest = timing;
    }
    if (fastest === undefined) break;
    steady.push(fastest);
  }
  const costPerToken = (shape: WarmupShape & { ms: number }) => shape.ms / (shape.rows * shape.length);
  // Nothing ran twice within the budget: the cost of the last shape run, first-run costs and all.
  const calibration = steady[0] ?? ran.at(-1)!;
  // The most rows among those within RUN_COST_TOLERANCE of the cheapest (steady: largest first).
  const cheapest = Math.min(...steady.map(costPerToken));
  const cheap = steady.filter((shape) => costPerToken(shape) <= cheapest * (1 + RUN_COST_TOLERANCE));
  const runRows = cheap[0]?.rows ?? maxRows;
  // Unmeasured (a heavy model whose budget ran no shape twice): a run's fixed cost outweighs any padding, so a
  // batch runs in as few runs as its limits allow, which is all a heavy model's small batches need.
  const runOverheadTokens = runOverhead(steady.filter((shape) => shape.rows <= runRows)) ?? fewestRunsOverhead(maxRows, maxTokens);
  if (climbedAll) await climb(longer);
  else skipped.push(...longer);
  return {
    ran,
    skipped,
    msPerToken: costPerToken(calibration),
    runRows,
    runOverheadTokens,
    ms: now() - started,
  };
}
