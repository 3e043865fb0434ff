// The one percentile of the benchmarks: the service's latencies at one connection and a raw inference's are
// compared with each other, so both are read the same way.

/** Percentile `p` (0-100) of ascending `sorted` values: the one at index ⌊p × n / 100⌋; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
