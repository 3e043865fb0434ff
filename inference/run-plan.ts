// How a worker cuts one batch of tokenized texts into ONNX Runtime runs. The batcher on the main thread
// groups texts by an estimate of their length (it never sees their tokens); here the exact lengths are
// known, so the texts are sorted by length and cut into consecutive runs, each padded only to its own
// longest text. A run ends at `maxRows` texts, at `maxTokens` padded tokens, or where the padded length
// grows once it holds `minRows` texts: runs of one padded length pad no more than rounding does, and are
// not cut below the size ONNX Runtime still runs cheaply. One task carrying several runs costs one thread
// hand-off instead of one per run.
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
  /** A run this long ends where the padded length grows (maxRows: only the other limits end it). */
  minRows: number;
  /** Most padded tokens (rows × padded length) in one run. */
  maxTokens: number;
}

/**
 * Cuts the texts whose `lengths` (tokens) are given, those with `include(i)` true, into runs within `limits`.
 * A text that alone is over `limits.maxTokens` still runs, alone: refusing it is the caller's business.
 */
export function planRuns(
  lengths: ArrayLike<number>, limits: RunLimits, maxLength: number, include: (i: number) => boolean = () => true,
): RunPlan {
  const { maxRows, minRows, maxTokens } = limits;
  const indices: number[] = [];
  for (let i = 0; i < lengths.length; i++) if (include(i)) indices.push(i);
  // Stable: equal lengths keep their arrival order.
  indices.sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const order = Int32Array.from(indices);
  const starts: number[] = [0];
  const runLengths: number[] = [];
  let rows = 0;
  let longest = 0;
  for (let k = 0; k < order.length; k++) {
    const padded = paddedLength(lengths[order[k]!]!, maxLength);
    // Sorted ascending: the text being added is the run's longest.
    if (rows > 0 && (rows >= maxRows || padded * (rows + 1) > maxTokens || (rows >= minRows && padded > longest))) {
      starts.push(k);
      runLengths.push(longest);
      rows = 0;
    }
    rows++;
    longest = padded;
  }
  if (rows > 0) {
    starts.push(order.length);
    runLengths.push(longest);
  }
  return { order, starts, lengths: runLengths };
}
