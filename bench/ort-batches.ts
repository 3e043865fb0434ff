// How bench/ort-throughput.ts cuts its batches from tokenized tweets, in one of two ways:
//   arrival  consecutive tweets, so lengths mix as traffic brings them (the padding of a batcher that
//            takes texts in arrival order)
//   length   as the service's batcher forms them under load: the service's own MicroBatcher is handed the
//            tweets (`queue` of them waiting at a time, in file order) and its batches are recorded: each
//            anchored on the oldest text and filled with the nearest lengths, within MAX_BATCH_SIZE and
//            MAX_BATCH_TOKENS, padded to inference/protocol.ts's paddedLength.
// On a heavy model on a CPU the difference decides whether batching pays at all (32 tweets in
// arrival order can carry most of their tokens as padding), so R_ort reports both.
import { MicroBatcher } from '../batching/batcher.js';
import { paddedLength } from '../inference/protocol.js';

export const GROUPINGS = ['arrival', 'length'] as const;
export type Grouping = (typeof GROUPINGS)[number];

export interface CutOptions {
  grouping: Grouping;
  /** Most texts in a batch. */
  batch: number;
  /** The model's token limit: no text is padded beyond it. */
  maxTokens: number;
  /** Padding multiple of the sequence length. */
  padMultiple: number;
  /** Most padded tokens in a batch (length grouping; default: no limit beyond `batch`). */
  maxBatchTokens?: number;
  /** Texts waiting from which the batcher chooses (length grouping; default: all of them). */
  queue?: number;
}

export interface Cut {
  /** Each batch as indexes into the texts, and the length it is padded to. */
  batches: { rows: number[]; length: number }[];
  realTokens: number;
  paddedTokens: number;
  /** Padded ÷ real tokens over every batch. */
  paddingRatio: number;
}

/** Cuts texts of the given token counts into batches; every text lands in exactly one batch. */
export async function cutBatches(lengths: readonly number[], options: CutOptions): Promise<Cut> {
  const rows = options.grouping === 'arrival' ? byArrival(lengths.length, options.batch) : await asTheBatcherDoes(lengths, options);
  const batches = rows.map((batch) => ({
    rows: batch,
    length: paddedLength(Math.max(...batch.map((i) => lengths[i]!)), options.maxTokens, options.padMultiple),
  }));
  let realTokens = 0;
  let paddedTokens = 0;
  for (const batch of batches) {
    for (const i of batch.rows) realTokens += lengths[i]!;
    paddedTokens += batch.rows.length * batch.length;
  }
  return { batches, realTokens, paddedTokens, paddingRatio: paddedTokens / Math.max(1, realTokens) };
}

function byArrival(count: number, batch: number): number[][] {
  const out: number[][] = [];
  for (let start = 0; start < count; start += batch) out.push(Array.from({ length: Math.min(batch, count - start) }, (_, k) => start + k));
  return out;
}

/**
 * The service's batcher with one worker and nothing prefetched: each recorded batch is what it would seal
 * from the `queue` texts waiting; as a batch leaves, as many texts arrive (the next in file order).
 */
async function asTheBatcherDoes(lengths: readonly number[], options: CutOptions): Promise<number[][]> {
  const batches: number[][] = [];
  const queue = Math.max(1, Math.min(options.queue ?? lengths.length, lengths.length));
  let next = 0;
  const batcher: MicroBatcher<number, null> = new MicroBatcher<number, null>({
    runner: async (indexes) => {
      batches.push(indexes);
      await Promise.resolve(); // the batch "runs": the texts that arrive meanwhile are queued first
      arrive(indexes.length);
      return indexes.map(() => null);
    },
    maxBatchSize: options.batch,
    maxBatchTokens: options.maxBatchTokens ?? options.batch * options.maxTokens,
    maxWaitMs: 0,
    maxQueue: lengths.length,
    concurrency: 1,
    prefetch: 0,
    lengthMultiple: options.padMultiple,
    padTo: (tokens) => paddedLength(tokens, options.maxTokens, options.padMultiple),
  });
  let remaining = lengths.length;
  let allDone!: () => void;
  const finished = new Promise<void>((resolve) => { allDone = resolve; });
  const arrive = (count: number) => {
    const entries = [];
    for (; count > 0 && next < lengths.length; count--, next++) entries.push({ payload: next, tokens: Math.max(1, lengths[next]!) });
    if (entries.length === 0) return;
    for (const promise of batcher.submitMany(entries)) void promise.then(() => { if (--remaining === 0) allDone(); });
  };
  // The first `queue` texts are waiting before the first batch is cut (submitted together: one choice).
  arrive(queue);
  await finished;
  await batcher.close();
  return batches;
}
