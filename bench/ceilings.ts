// The `ort` system of `npm run bench`: the raw ceilings the service is judged against, each measured on the
// same cores as the systems: R_ort (ONNX Runtime alone, the best over batch sizes and orders), R_tok (the
// tokenizer alone) and, when a run has 1 connection, the latency of one raw inference.
import type { BenchOptions } from './cli-options.js';
import type { Results } from './report.js';
import { runOrt, serviceDtype } from './systems.js';
import { tokenizerThroughput } from './tokenizer-throughput.js';

const firstLine = (error: unknown): string => (error as Error).message.split('\n')[0]!;

export async function measureCeilings(options: BenchOptions, results: Results, log: (line: string) => void): Promise<void> {
  const { model, sizing, ortBatches: batches } = options;
  // R_ort is the best raw figure over batch sizes (each in arrival and length order): on a heavy model on a
  // CPU, batching pays only when a batch holds texts of similar lengths.
  const ortOptions = {
    model, dtype: serviceDtype(sizing), batch: batches[0]!, ...(batches.length > 1 ? { batches } : {}), threads: sizing.intraOpThreads,
    sessions: sizing.replicas * sizing.workers, seconds: options.ortSeconds,
  };
  log(`- ort: bench/ort-throughput.ts, batch ${batches.join(',')}, ${ortOptions.sessions} sessions × ${ortOptions.threads} threads, ${ortOptions.seconds} s per run`);
  try {
    const ort = await runOrt(ortOptions);
    const best = (ort.raw.best ?? ort.raw) as { batch?: number; grouping?: string; paddingRatio?: number };
    results.ceilings.ort = {
      ...ortOptions, batch: best.batch ?? batches[0]!, grouping: best.grouping, paddingRatio: best.paddingRatio,
      tweetsPerSecond: ort.tweetsPerSecond, command: ort.command, raw: ort.raw,
    };
    log(`  R_ort = ${Math.round(ort.tweetsPerSecond).toLocaleString('en-US')} tweets/s (batch ${best.batch}, ${best.grouping} order, padding ratio ${best.paddingRatio})`);
  } catch (error) {
    results.ceilings.ort = { skipped: firstLine(error) };
    log(`  failed: ${(error as Error).message}`);
  }
  // R_tok: every text is also tokenized on the same cores (one thread per core, as bulk measures it).
  log(`- R_tok: bench/tokenizer-throughput.ts, ${sizing.cores} threads, ${ortOptions.seconds} s`);
  try {
    const tok = await tokenizerThroughput({ model, threads: sizing.cores, seconds: ortOptions.seconds, data: options.tweetsPath });
    results.ceilings.tok = { tweetsPerSecond: tok.tweetsPerSecond, threads: tok.threads, seconds: tok.seconds, tokensPerTweet: tok.tokensPerTweet };
    log(`  R_tok = ${Math.round(tok.tweetsPerSecond).toLocaleString('en-US')} tweets/s`);
  } catch (error) {
    results.ceilings.tok = { skipped: firstLine(error) };
    log(`  failed: ${(error as Error).message}`);
  }
  if (options.connections.includes(1)) {
    // The latency floor of a lone request: one text through one session, no queue, no HTTP.
    const single = { ...ortOptions, batch: 1, batches: undefined, sessions: 1, seconds: Math.min(ortOptions.seconds, 10) };
    log(`- one raw inference: bench/ort-throughput.ts, batch 1, 1 session × ${single.threads} threads, ${single.seconds} s`);
    const timeOne = async (pauseMs?: number) => {
      const ort = await runOrt({ ...single, ...(pauseMs === undefined ? {} : { pauseMs }) });
      const latency = ort.raw.batchLatencyMs as { p50: number; p99: number };
      log(`  p50 ${latency.p50} ms, p99 ${latency.p99} ms a call`);
      return { p50Ms: latency.p50, p99Ms: latency.p99, command: ort.command };
    };
    try {
      results.ceilings.single = { ...await timeOne(), threads: single.threads, seconds: single.seconds };
    } catch (error) {
      results.ceilings.single = { skipped: firstLine(error) };
      log(`  failed: ${(error as Error).message}`);
      return;
    }
    const pauseMs = 1;
    log(`- the same with a ${pauseMs} ms pause before each run (a worker's pace at 1 connection)`);
    try {
      results.ceilings.single.paused = { pauseMs, ...await timeOne(pauseMs) };
    } catch (error) {
      results.ceilings.single.paused = { skipped: firstLine(error) };
      log(`  failed: ${(error as Error).message}`);
    }
  }
}
