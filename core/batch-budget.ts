// MAX_BATCH_TOKENS on a CPU when the user has not set it: from the model's cost per padded token, measured
// by the inference workers at warm-up (inference/warmup.ts), so that one batch runs for about
// TARGET_BATCH_MS whatever the model. A fixed 16,384 tokens suited the shipped 5 M-parameter model (a
// full batch in tens of ms) but let a RoBERTa-base-sized one run batches of many seconds, holding the
// queue behind them.

/** The token budget of a small model, and the most any CPU batch holds: the budget every model once had. */
export const CPU_MAX_BATCH_TOKENS = 16_384;

/** The fewest: one tweet padded to its length, whatever the model costs. */
export const MIN_BATCH_TOKENS = 64;

/**
 * How long one batch should run. On a CPU a heavy model gains from batching only up to about 8 tweets of
 * similar length (bench/ort-throughput.ts --batches 1,8,32: R_ort on the RoBERTa-base-sized model);
 * beyond that a batch only makes the texts that arrive while it runs wait longer. Half a second holds
 * about 8 tweets there and leaves a small model's budget at the CPU_MAX_BATCH_TOKENS cap.
 */
export const TARGET_BATCH_MS = 500;

/** The padded tokens a batch may hold for a model costing `msPerToken` per padded token (0: unknown). */
export function autoMaxBatchTokens(msPerToken: number): number {
  if (!(msPerToken > 0) || !Number.isFinite(msPerToken)) return CPU_MAX_BATCH_TOKENS;
  const tokens = Math.floor(TARGET_BATCH_MS / msPerToken / 8) * 8;
  return Math.max(MIN_BATCH_TOKENS, Math.min(CPU_MAX_BATCH_TOKENS, tokens));
}

/** The queue bound of a small model, and the most any CPU queue holds: the bound every model once had. */
export const CPU_MAX_QUEUE = 2048;

/**
 * Padded tokens of a typical tweet: the validation tweets average 26 (shipped tokenizer) and 29 (Twitter
 * RoBERTa) real tokens, and the workers pad to a multiple of 8.
 */
export const TWEET_PADDED_TOKENS = 32;

/** A full queue drains within this share of REQUEST_TIMEOUT_MS, leaving the rest for the text's own batch and HTTP. */
export const QUEUE_DRAIN_SHARE = 0.5;

/**
 * MAX_QUEUE on a CPU when the user has not set it: as many tweets as `workers` run in half the deadline at
 * `msPerToken`, so that a text the queue accepts can be answered before its deadline, and overload is shed
 * at once with 503 and Retry-After. With the 2048 of a small model, a RoBERTa-base-sized one at 500
 * connections queued over a minute of work and its clients timed out instead. Never below
 * `minimum` (MAX_CLIENT_BATCH: a full batch call must fit).
 */
export function autoMaxQueue(msPerToken: number, workers: number, requestTimeoutMs: number, minimum: number): number {
  if (!(msPerToken > 0) || !Number.isFinite(msPerToken)) return Math.max(minimum, CPU_MAX_QUEUE);
  const texts = Math.floor((requestTimeoutMs * QUEUE_DRAIN_SHARE * workers) / (msPerToken * TWEET_PADDED_TOKENS));
  return Math.max(minimum, Math.min(CPU_MAX_QUEUE, texts));
}
