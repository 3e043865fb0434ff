// How a worker cuts one batch of tokenized texts into ONNX Runtime runs. The batcher on the main thread
// groups texts by an estimate of their length (it never sees their tokens); here the exact lengths are
// known, so the texts are sorted by length and cut into consecutive runs, each padded only to its own
// longest text. Every run costs a fixed overhead besides its padded tokens (the warm-up measures both:
// inference/warmup.ts), so the cut points are chosen to spend the fewest padded tokens plus overheads: a
// few texts of one length pad on with longer ones rather than pay a run of their own, a large group runs
// alone rather than pad. Sorted runs of consecutive lengths hold an optimal cut (swapping two texts between
// runs never lowers the longest of either), so a dynamic programme over the cut points finds it exactly.
// One task carrying several runs costs one thread hand-off instead of one per run.
import { paddedLength } from './protocol.js';

export interface RunPlan {
  /** Indices of the texts run, shortest first (texts left out of every run are absent). */
  order: Int32Array;
  /** Run r holds order[starts[r] .. starts[r + 1]); starts has one more entry than there are runs. */
  starts: number[];
  /** The padded length of each run. */
  lengths: number[];
}

/** The sizes a worker's runs keep to (a warm-up measures them: inference/warmup.ts). */
export interface RunLimits {
  /** Most texts in one run. */
  maxRows: number;
  /** Most padded tokens (rows × padded length) in one run. */
  maxTokens: number;
  /** The fixed cost of one run, in padded tokens' worth of model time. */
  overheadTokens: number;
}

/**
 * A fixed cost per run above any padding a run could save (at most `maxRows` texts padded by up to
 * `maxLength` tokens each): with it, a batch runs in the fewest runs its limits allow.
 */
export function fewestRunsOverhead(maxRows: number, maxLength: number): number {
  return maxRows * maxLength;
}

/**
 * Cuts the texts whose `lengths` (tokens) are given, those with `include(i)` true, into runs within `limits`,
 * at the least padded tokens plus `overheadTokens` a run. A text that alone is over `limits.maxTokens` still
 * runs, alone: refusing it is the caller's business.
 */
export function planRuns(
  lengths: ArrayLike<number>, limits: RunLimits, maxLength: number, include: (i: number) => boolean = () => true,
): RunPlan {
  const { maxRows, maxTokens, overheadTokens } = limits;
  const indices: number[] = [];
  for (let i = 0; i < lengths.length; i++) if (include(i)) indices.push(i);
  // Stable: equal lengths keep their arrival order.
  indices.sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const order = Int32Array.from(indices);
  const n = order.length;
  const padded = Array.from(order, (i) => paddedLength(lengths[i]!, maxLength));
  // cost[k]: the least cost of running the first k texts; first[k]: where the last of those runs starts.
  const cost = new Float64Array(n + 1);
  const first = new Int32Array(n + 1);
  for (let end = 1; end <= n; end++) {
    // Sorted ascending: the run's last text is its longest.
    const length = padded[end - 1]!;
    cost[end] = Infinity;
    for (let start = end - 1; start >= 0 && end - start <= maxRows; start--) {
      const rows = end - start;
      if (rows > 1 && rows * length > maxTokens) break;
      const total = cost[start]! + overheadTokens + rows * length;
      // Ties go to the longer run (fewer runs).
      if (total <= cost[end]!) {
        cost[end] = total;
        first[end] = start;
      }
    }
  }
  const starts: number[] = [];
  const runLengths: number[] = [];
  for (let end = n; end > 0; end = first[end]!) {
    starts.push(end);
    runLengths.push(padded[end - 1]!);
  }
  starts.push(0);
  return { order, starts: starts.reverse(), lengths: runLengths.reverse() };
}
