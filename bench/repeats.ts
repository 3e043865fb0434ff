// Rounds of the same systems (compare --repeat): on a shared 2-core VM the same system varies by 10-40 %
// between 20-second runs, so every system runs in each round, the order alternating (forward, then back, so
// that no system always runs first or last), and each figure is the median of its rounds. Every run is kept.
import type { SystemResult, SystemRun } from './report.js';

/** The median; of an even count, the mean of the middle two. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The order of the systems in round `round` (0-based): forward on even rounds, backward on odd ones. */
export function roundOrder<T>(systems: readonly T[], round: number): T[] {
  return round % 2 === 0 ? [...systems] : [...systems].reverse();
}

const medianOf = <K>(runs: readonly K[], pick: (run: K) => number) => median(runs.map(pick));

/** The run of the median throughput; of an even count, the lower middle one. */
export function middleRun<K extends { textsPerSecond: number }>(runs: readonly K[]): K {
  if (runs.length === 0) throw new RangeError('no runs to take the middle of');
  return [...runs].sort((a, b) => a.textsPerSecond - b.textsPerSecond)[Math.floor((runs.length - 1) / 2)]!;
}

/**
 * One run standing for `runs` (the same system at the same connections): the run of the median throughput
 * (of an even count, the lower middle one), with its throughputs, latency percentiles and CPU replaced by
 * the medians over the runs. Its counts (requests, errors, non-2xx) and server-side metrics stay that run's.
 */
export function medianRun(runs: readonly SystemRun[]): SystemRun {
  if (runs.length === 1) return runs[0]!;
  const chosen = middleRun(runs);
  const cores = Object.fromEntries(Object.keys(chosen.cpu.cores).map((name) => [name, medianOf(runs, (r) => r.cpu.cores[name] ?? 0)]));
  const threads = chosen.cpu.threads === undefined ? undefined : Object.fromEntries(Object.entries(chosen.cpu.threads).map(([component, roles]) => [
    component,
    Object.fromEntries(Object.keys(roles).map((role) => [role, medianOf(runs, (r) => r.cpu.threads?.[component]?.[role as keyof typeof roles] ?? 0)])),
  ]));
  return {
    ...chosen,
    requestsPerSecond: medianOf(runs, (r) => r.requestsPerSecond),
    okPerSecond: medianOf(runs, (r) => r.okPerSecond),
    textsPerSecond: medianOf(runs, (r) => r.textsPerSecond),
    latency: {
      mean: medianOf(runs, (r) => r.latency.mean),
      p50: medianOf(runs, (r) => r.latency.p50),
      p90: medianOf(runs, (r) => r.latency.p90),
      p99: medianOf(runs, (r) => r.latency.p99),
      max: Math.max(...runs.map((r) => r.latency.max)),
    },
    cpu: { ...chosen.cpu, cores, ...(threads === undefined ? {} : { threads }) },
  };
}

/**
 * A system's rounds as one result: `runs` holds the median run of each connection count, `rounds` every
 * round's runs. A system skipped in any round is reported skipped, with that round's reason.
 */
export function mergeRounds(rounds: readonly SystemResult[]): SystemResult {
  const first = rounds[0]!;
  const skipped = rounds.find((round) => round.skipped !== undefined);
  if (rounds.length === 1 || skipped !== undefined) return skipped ?? first;
  return {
    ...first,
    runs: first.runs.map((_, i) => medianRun(rounds.map((round) => round.runs[i]!).filter(Boolean))),
    rounds: rounds.map((round) => round.runs),
  };
}
