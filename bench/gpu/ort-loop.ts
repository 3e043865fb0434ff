// Raw ONNX Runtime throughput on a chosen execution provider (cpu, webgpu, cuda): one session, batches run
// back to back, no HTTP, no queue, no tokenizing in the timed loop. The ceiling the service approaches on
// one GPU (the service runs one session per GPU). Two kinds of input:
//   --seq 64 --batches 1,128,256   synthetic texts of exactly --seq tokens (<s> random ids </s>), no padding:
//                                  comparable with fixed-shape numbers such as docs/gpu.md's earlier H200 ones
//   --texts FILE --text-batch 128  real tweets, tokenized with the service's TextTokenizer, cut into batches
//                                  of consecutive tweets, each sorted by length and cut into runs and laid out
//                                  by the service's own code (inference/run-plan.ts, inference/session.ts):
//                                  the same work the service does per batch
// One session serves every run, so the model loads once.
//
//   node js/ort-loop.mjs --model DIR|FILE --device webgpu --seq 64 --batches 1,128 --texts t.jsonl --text-batch 128
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { readTexts } from '../../tools/compare-logits.js';
import { loadModelFiles } from '../../inference/model-files.js';
import { fewestRunsOverhead, planRuns } from '../../inference/run-plan.js';
import { batchFeeds, padBatch } from '../../inference/session.js';
import { TextTokenizer } from '../../inference/tokenizer.js';
import { percentile } from '../percentile.js';

export interface LoopRun {
  kind: 'fixed' | 'tweets';
  batch: number;
  /** Tokens per row as run (the fixed length, or the mean padded length of the tweet batches). */
  seq: number;
  /** Real (unpadded) tokens per row on average. */
  realSeq: number;
  runs: number;
  seconds: number;
  seqPerSec: number;
  batchMs: { p50: number; p90: number; p99: number; mean: number };
}

export interface LoopResult {
  onnx: string;
  device: string;
  threads: number;
  sessionMs: number;
  firstRunMs: number;
  runs: LoopRun[];
}

export interface LoopOptions {
  model: string;
  device: 'cpu' | 'webgpu' | 'cuda';
  threads: number;
  seconds: number;
  warmupRuns: number;
  seq: number;
  batches: number[];
  texts: string[];
  textBatch: number;
}

interface PreparedBatch {
  rows: number;
  length: number;
  realTokens: number;
  feeds: Record<string, ort.Tensor>;
}

/** Rows of exactly `seq` tokens: <s>/[CLS] id, pseudo-random ids, </s>/[SEP] id; no padding. */
export function fixedBatch(rows: number, seq: number, vocab: number, first: number, last: number, withTypes: boolean): PreparedBatch {
  let state = 12345;
  const ids = Array.from({ length: rows }, () => Array.from({ length: seq }, (_, j) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return j === 0 ? first : j === seq - 1 ? last : 4 + (state % Math.max(1, vocab - 5));
  }));
  return { rows, length: seq, realTokens: rows * seq, feeds: batchFeeds(padBatch(ids, seq, 0), withTypes) };
}

/**
 * Consecutive tweets in batches of `batch`, each batch cut into runs as a worker of the service cuts it
 * (sorted by length, at most `runRows` texts a run, each padded to its longest rounded up to a multiple of
 * 8), and each run laid out by the service's own padBatch and batchFeeds.
 */
export function tweetBatches(encoded: number[][], batch: number, padId: number, withTypes: boolean, maxTokens: number, runRows = batch): PreparedBatch[] {
  const out: PreparedBatch[] = [];
  for (let start = 0; start + batch <= encoded.length || (out.length === 0 && start < encoded.length); start += batch) {
    const slice = encoded.slice(start, start + batch);
    const plan = planRuns(slice.map((ids) => ids.length), { maxRows: runRows, maxTokens: Number.MAX_SAFE_INTEGER, overheadTokens: fewestRunsOverhead(runRows, maxTokens) }, maxTokens);
    for (let r = 0; r + 1 < plan.starts.length; r++) {
      const rows = Array.from(plan.order.subarray(plan.starts[r], plan.starts[r + 1]), (i) => slice[i]!);
      const length = plan.lengths[r]!;
      const realTokens = rows.reduce((sum, row) => sum + row.length, 0);
      out.push({ rows: rows.length, length, realTokens, feeds: batchFeeds(padBatch(rows, length, padId), withTypes) });
    }
  }
  return out;
}

const round = (x: number, digits = 3) => Number(x.toFixed(digits));

async function timeBatches(session: ort.InferenceSession, batches: PreparedBatch[], seconds: number, warmupRuns: number, kind: LoopRun['kind'], batch: number): Promise<LoopRun> {
  for (let i = 0; i < Math.max(warmupRuns, Math.min(batches.length, 2)); i++) await session.run(batches[i % batches.length]!.feeds);
  const latencies: number[] = [];
  let rows = 0;
  let padded = 0;
  let real = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  let k = 0;
  // At least 3 runs, however slow (CPU dry runs of a large model).
  while (now < end || latencies.length < 3) {
    const b = batches[k++ % batches.length]!;
    const t0 = performance.now();
    await session.run(b.feeds);
    now = performance.now();
    latencies.push(now - t0);
    rows += b.rows;
    padded += b.rows * b.length;
    real += b.realTokens;
  }
  const elapsed = (now - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    kind,
    batch,
    seq: round(padded / rows, 1),
    realSeq: round(real / rows, 1),
    runs: latencies.length,
    seconds: round(elapsed, 2),
    seqPerSec: round(rows / elapsed, 1),
    batchMs: {
      p50: round(percentile(latencies, 50)),
      p90: round(percentile(latencies, 90)),
      p99: round(percentile(latencies, 99)),
      mean: round(latencies.reduce((a, b) => a + b, 0) / latencies.length),
    },
  };
}

export async function ortLoop(options: LoopOptions, progress: (line: string) => void = () => {}): Promise<LoopResult> {
  const absolute = resolve(options.model);
  const onnx = existsSync(absolute) && statSync(absolute).isDirectory() ? join(absolute, 'model.onnx') : absolute;
  const files = loadModelFiles(onnx);
  const tokenizer = new TextTokenizer(files.tokenizerJson, files.tokenizerConfig, files.maxTokens);
  const started = performance.now();
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: [options.device],
    intraOpNumThreads: options.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  const sessionMs = performance.now() - started;
  try {
    const withTypes = session.inputNames.includes('token_type_ids');
    const vocab = typeof files.config.vocab_size === 'number' ? files.config.vocab_size : 1000;
    const special = tokenizer.encode('');
    const first = special.ids[0] ?? 0;
    const last = special.ids[special.ids.length - 1] ?? first;
    const t0 = performance.now();
    await session.run(fixedBatch(1, 8, vocab, first, last, withTypes).feeds);
    const firstRunMs = performance.now() - t0;
    const runs: LoopRun[] = [];
    for (const batch of options.batches) {
      const run = await timeBatches(session, [fixedBatch(batch, Math.min(options.seq, files.maxTokens), vocab, first, last, withTypes)], options.seconds, options.warmupRuns, 'fixed', batch);
      progress(`fixed seq ${run.seq} batch ${batch}: ${run.seqPerSec} seq/s (p50 ${run.batchMs.p50} ms/batch)`);
      runs.push(run);
    }
    if (options.texts.length > 0 && options.textBatch > 0) {
      const encoded = options.texts.map((text) => tokenizer.encode(text).ids);
      const run = await timeBatches(session, tweetBatches(encoded, options.textBatch, tokenizer.padId, withTypes, files.maxTokens), options.seconds, options.warmupRuns, 'tweets', options.textBatch);
      progress(`tweets batch ${options.textBatch} (mean padded length ${run.seq}): ${run.seqPerSec} seq/s (p50 ${run.batchMs.p50} ms/batch)`);
      runs.push(run);
    }
    return { onnx, device: options.device, threads: options.threads, sessionMs: round(sessionMs, 0), firstRunMs: round(firstRunMs, 1), runs };
  } finally {
    await session.release();
  }
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      device: { type: 'string', default: 'cpu' },
      threads: { type: 'string', default: '1' },
      seconds: { type: 'string', default: '5' },
      'warmup-runs': { type: 'string', default: '3' },
      seq: { type: 'string', default: '64' },
      batches: { type: 'string', default: '1,128' },
      texts: { type: 'string' },
      n: { type: 'string', default: '2048' },
      'text-batch': { type: 'string', default: '128' },
    },
  });
  if (values.model === undefined) {
    console.error('usage: ort-loop --model DIR|FILE [--device cpu|webgpu|cuda] [--threads 1] [--seconds 5] [--seq 64] [--batches 1,128] [--texts FILE --n 2048 --text-batch 128]');
    return 1;
  }
  const device = values.device as LoopOptions['device'];
  if (!['cpu', 'webgpu', 'cuda'].includes(device)) throw new RangeError(`--device must be cpu, webgpu or cuda, got ${values.device}`);
  const result = await ortLoop({
    model: values.model,
    device,
    threads: Number(values.threads),
    seconds: Number(values.seconds),
    warmupRuns: Number(values['warmup-runs']),
    seq: Number(values.seq),
    batches: values.batches.split(',').filter((b) => b.trim() !== '').map(Number),
    texts: values.texts !== undefined ? readTexts(values.texts, Number(values.n)) : [],
    textBatch: Number(values['text-batch']),
  }, (line) => console.error(`[ort-loop ${device}] ${line}`));
  console.log(JSON.stringify(result));
  return 0;
}

// Run as a program (tsx, node dist/…, or a bundle named after it), not when imported.
if (/^ort-loop\.(ts|js|mjs)$/.test(basename(process.argv[1] ?? ''))) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error: unknown) => {
    console.error(`ort-loop: ${(error as Error).stack ?? String(error)}`);
    process.exitCode = 1;
  });
}
