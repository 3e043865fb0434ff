// WORKERS × INTRA_OP_THREADS on a CPU when neither is set: chosen from what the model costs, measured by a
// worker that uses every core. A heavy model (RoBERTa-base: tens of ms a tweet) answers a lone text fastest
// with every core's thread on it, and batches no slower that way, so it gets one worker with all the
// threads. A light one (the shipped model: well under a ms a tweet) gains nothing from intra-op threads,
// whose hand-offs cost more than its operators, and serves most as one single-threaded worker per core.
import { TWEET_LENGTH } from '../inference/warmup.js';

/** A tweet's padded tokens at steady state costing at least this with every thread: a heavy model. */
export const HEAVY_TWEET_MS = 10;

export interface WorkerSizing {
  workers: number;
  intraOpThreads: number;
  /** How the sizing was decided, for the log and /api/model. */
  reason: string;
}

/** The sizing the settings give, or undefined when the service should measure and choose (a CPU, neither set). */
export function configuredSizing(workers: number | undefined, intraOpThreads: number | undefined, cpus: number): WorkerSizing | undefined {
  if (workers !== undefined && intraOpThreads !== undefined) return { workers, intraOpThreads, reason: 'set by WORKERS and INTRA_OP_THREADS (or their defaults)' };
  if (intraOpThreads !== undefined) return { workers: Math.max(1, Math.floor(cpus / intraOpThreads)), intraOpThreads, reason: 'INTRA_OP_THREADS set; WORKERS = CPUs ÷ it' };
  if (workers !== undefined) return { workers, intraOpThreads: Math.max(1, Math.floor(cpus / workers)), reason: 'WORKERS set; INTRA_OP_THREADS = CPUs ÷ it' };
  if (cpus <= 1) return { workers: 1, intraOpThreads: 1, reason: 'one CPU' };
  return undefined;
}

/** The probe's sizing: one worker with a thread per CPU, which measures the model's cost. */
export function probeSizing(cpus: number): { workers: number; intraOpThreads: number } {
  return { workers: 1, intraOpThreads: cpus };
}

/** The sizing chosen from the probe's steady cost per padded token (with `cpus` threads). */
export function chooseSizing(cpus: number, msPerToken: number): WorkerSizing {
  const tweetMs = msPerToken * TWEET_LENGTH;
  const measured = `a tweet's ${TWEET_LENGTH} padded tokens cost ${tweetMs.toFixed(2)} ms at warm-up with ${cpus} threads`;
  if (tweetMs >= HEAVY_TWEET_MS) {
    return { workers: 1, intraOpThreads: cpus, reason: `chosen: ${measured} (≥ ${HEAVY_TWEET_MS} ms, a heavy model): one worker with every core answers a lone text fastest` };
  }
  return { workers: cpus, intraOpThreads: 1, reason: `chosen: ${measured} (< ${HEAVY_TWEET_MS} ms, a light model): one single-threaded worker per core serves the most texts` };
}
