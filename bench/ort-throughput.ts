// Raw ONNX Runtime throughput of a model directory on real tweets: no HTTP, no batching queue, no
// tokenization in the timed loop. The ceiling the service can approach.
//
//   npx tsx bench/ort-throughput.ts --model models/twitter-sentiment --batch 32 --threads 2 --seconds 10
//   npx tsx bench/ort-throughput.ts --sessions 2 --threads 1        # 2 worker threads × 1 ORT thread
//   npx tsx bench/ort-throughput.ts --sweep                         # several layouts, reports the fastest
//   npx tsx bench/ort-throughput.ts --batches 1,8,32 --sessions 2 --threads 1   # R_ort: best over batch sizes
//   npx tsx bench/ort-throughput.ts --batch 1 --threads 1 --pause-ms 1           # one text a millisecond
//
// The validation tweets are tokenized once with the server's TextTokenizer and cut into batches of up to
// --batch tweets (bench/ort-batches.ts), --grouping arrival (consecutive tweets, lengths mixed as in
// traffic) or length (as the service's batcher forms them: nearest lengths first, from --queue waiting
// texts, within --max-batch-tokens). Each batch is right-padded with the pad id to a multiple of
// --pad-multiple tokens (attention_mask 0 there; token_type_ids zeros when the model takes them), as the
// server does. Each of --sessions worker threads owns one InferenceSession with intraOpNumThreads =
// --threads and runs the batches round-robin in a tight loop for --seconds after --warmup seconds.
// With --pause-ms P each session sleeps P ms before every run (not timed), as a worker waits between lone
// requests at one connection: a run after a pause takes longer than one back to back. Prints one JSON
// object on stdout. With --batches (several sizes, both groupings unless --grouping says
// one) its tweetsPerSecond is R_ort, the best run, named in `best` with its batch size, grouping and
// padding ratio (padded ÷ real tokens), every run in `results`. With --sweep, one run per layout.
import { availableParallelism, cpus } from 'node:os';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { fileSha256, loadModelFiles } from '../inference/model-files.js';
import { MODEL_DTYPES, type ModelDtype } from '../inference/onnx-files.js';
import { padRows } from '../inference/session.js';
import { TextTokenizer } from '../inference/tokenizer.js';
import { GROUPINGS, cutBatches, type Grouping } from './ort-batches.js';
import { percentile } from './percentile.js';
import { DEFAULT_TWEETS, loadTweets } from './tweets.js';

interface Options {
  model: string;
  onnxFile: string | undefined;
  /** The model's file of this dtype, chosen as MODEL_DTYPE chooses it (default auto, on a CPU). */
  dtype: ModelDtype | undefined;
  data: string;
  batch: number;
  threads: number;
  sessions: number;
  seconds: number;
  warmup: number;
  padMultiple: number;
  limit: number;
  grouping: Grouping;
  /** Length grouping: texts waiting, and padded tokens per batch (0: all of them, no limit). */
  queue: number;
  maxBatchTokens: number;
  /** Sleep before every measured run, ms (0: back to back). */
  pauseMs: number;
}

interface PreparedBatch {
  ids: BigInt64Array;
  mask: BigInt64Array;
  rows: number;
  seq: number;
}

interface WorkerResult {
  batches: number;
  tweets: number;
  seconds: number;
  latenciesMs: number[];
}

// Resolves onnxruntime-node for the eval'd workers, from ESM under tsx and from the compiled dist/ alike.
const requireHere = createRequire(import.meta.url);

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/twitter-sentiment' },
    onnx: { type: 'string' },
    dtype: { type: 'string' },
    data: { type: 'string', default: DEFAULT_TWEETS },
    batch: { type: 'string', default: '32' },
    batches: { type: 'string' },
    grouping: { type: 'string' },
    queue: { type: 'string', default: '0' },
    'max-batch-tokens': { type: 'string', default: '0' },
    threads: { type: 'string', default: '2' },
    sessions: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    'pad-multiple': { type: 'string', default: '8' },
    'pause-ms': { type: 'string', default: '0' },
    limit: { type: 'string', default: '0' },
    sweep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log('usage: npx tsx bench/ort-throughput.ts [--model DIR] [--onnx FILE | --dtype fp32|q8|...] [--data validation.jsonl] [--batch 32] [--threads 2] [--sessions 1] [--seconds 10] [--warmup 2] [--pad-multiple 8] [--pause-ms 0] [--limit N] [--sweep] [--batches 1,8,32] [--grouping arrival|length|both] [--queue N] [--max-batch-tokens N]');
  process.exit(0);
}

function oneOfDtypes(text: string): ModelDtype {
  if (!(MODEL_DTYPES as readonly string[]).includes(text)) throw new RangeError(`--dtype must be one of ${MODEL_DTYPES.join(', ')}, got ${text}`);
  return text as ModelDtype;
}

function positiveInt(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`--${name} must be a non-negative integer, got ${text}`);
  return n;
}

const base: Options = {
  model: values.model,
  onnxFile: values.onnx,
  dtype: values.dtype === undefined ? undefined : oneOfDtypes(values.dtype),
  data: values.data,
  batch: positiveInt('batch', values.batch),
  threads: positiveInt('threads', values.threads),
  sessions: positiveInt('sessions', values.sessions),
  seconds: Number(values.seconds),
  warmup: Number(values.warmup),
  padMultiple: positiveInt('pad-multiple', values['pad-multiple']),
  limit: positiveInt('limit', values.limit),
  grouping: 'arrival',
  queue: positiveInt('queue', values.queue),
  maxBatchTokens: positiveInt('max-batch-tokens', values['max-batch-tokens']),
  pauseMs: positiveInt('pause-ms', values['pause-ms']),
};
// --batches runs every size in both groupings unless --grouping names one; --batch alone keeps the
// arrival order of the first version of this script.
const batchSizes = (values.batches ?? String(base.batch)).split(',').map((b) => positiveInt('batches', b.trim())).filter((b) => b > 0);
const groupingArg = values.grouping ?? (values.batches !== undefined ? 'both' : 'arrival');
if (groupingArg !== 'both' && !(GROUPINGS as readonly string[]).includes(groupingArg)) throw new RangeError(`--grouping must be arrival, length or both, got ${groupingArg}`);
const groupings: Grouping[] = groupingArg === 'both' ? [...GROUPINGS] : [groupingArg as Grouping];

// The worker is plain CommonJS, evaluated from a string, so it runs the same under tsx and from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
(async () => {
  const session = await ort.InferenceSession.create(workerData.onnxPath, {
    intraOpNumThreads: workerData.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  // Any Hugging Face export: BERT-like ones also take token_type_ids (zeros for one text), RoBERTa's do not.
  const withTypes = session.inputNames.includes('token_type_ids');
  const feeds = workerData.batches.map((b) => {
    const inputs = {
      input_ids: new ort.Tensor('int64', b.ids, [b.rows, b.seq]),
      attention_mask: new ort.Tensor('int64', b.mask, [b.rows, b.seq]),
    };
    if (withTypes) inputs.token_type_ids = new ort.Tensor('int64', new BigInt64Array(b.rows * b.seq), [b.rows, b.seq]);
    return { inputs, rows: b.rows };
  });
  let k = workerData.offset % feeds.length;
  const warmEnd = performance.now() + workerData.warmup * 1000;
  while (performance.now() < warmEnd) {
    const f = feeds[k]; k = (k + 1) % feeds.length;
    await session.run(f.inputs);
  }
  parentPort.postMessage({ ready: true });
  await new Promise((resolve) => parentPort.once('message', resolve));
  const latencies = [];
  let tweets = 0;
  const start = performance.now();
  const end = start + workerData.seconds * 1000;
  let now = start;
  while (now < end) {
    const f = feeds[k]; k = (k + 1) % feeds.length;
    if (workerData.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, workerData.pauseMs));
    const t0 = performance.now();
    await session.run(f.inputs);
    now = performance.now();
    latencies.push(now - t0);
    tweets += f.rows;
  }
  parentPort.postMessage({ batches: latencies.length, tweets, seconds: (now - start) / 1000, latenciesMs: latencies });
  await session.release();
})().catch((error) => { parentPort.postMessage({ error: String(error && error.stack || error) }); });
`;

function tokenize(options: Options) {
  // MODEL_PATH semantics: a directory (its file of --dtype), or with --onnx a named ONNX file inside it.
  const files = loadModelFiles(options.onnxFile !== undefined ? resolve(options.model, options.onnxFile) : options.model, { dtype: options.dtype });
  const tokenizer = new TextTokenizer(files.tokenizerJson, files.tokenizerConfig, files.maxTokens);
  let texts = loadTweets(resolve(options.data));
  if (options.limit > 0) texts = texts.slice(0, options.limit);
  return { files, padId: tokenizer.padId, encoded: texts.map((t) => tokenizer.encode(t).ids) };
}

interface Prepared {
  files: ReturnType<typeof loadModelFiles>;
  batches: PreparedBatch[];
  texts: number;
  realTokens: number;
  paddedTokens: number;
  paddingRatio: number;
}

/** The batches of one run, laid out as the worker feeds them, with their padding. */
async function prepare(options: Options, tokenized: ReturnType<typeof tokenize>): Promise<Prepared> {
  const { encoded, files, padId } = tokenized;
  const cut = await cutBatches(encoded.map((ids) => ids.length), {
    grouping: options.grouping, batch: options.batch, maxTokens: files.maxTokens, padMultiple: options.padMultiple,
    ...(options.maxBatchTokens > 0 ? { maxBatchTokens: options.maxBatchTokens } : {}),
    ...(options.queue > 0 ? { queue: options.queue } : {}),
  });
  const batches: PreparedBatch[] = cut.batches.map((batch) => {
    const padded = padRows(batch.rows.map((i) => encoded[i]!), padId, { length: batch.length });
    return { ids: padded.inputIds, mask: padded.attentionMask, rows: padded.rows, seq: padded.length };
  });
  return { files, batches, texts: encoded.length, realTokens: cut.realTokens, paddedTokens: cut.paddedTokens, paddingRatio: cut.paddingRatio };
}

async function runLayout(options: Options, prepared: Prepared) {
  const ortPath = requireHere.resolve('onnxruntime-node');
  const workers = Array.from({ length: options.sessions }, (_, i) => new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      ortPath,
      onnxPath: prepared.files.onnxPath,
      threads: options.threads,
      seconds: options.seconds,
      warmup: options.warmup,
      pauseMs: options.pauseMs,
      offset: Math.floor((i * prepared.batches.length) / options.sessions),
      batches: prepared.batches,
    },
  }));
  const message = (w: Worker) => new Promise<Record<string, unknown>>((resolveMessage, reject) => {
    w.once('message', (m: Record<string, unknown> & { error?: string }) => (m.error ? reject(new Error(m.error)) : resolveMessage(m)));
    w.once('error', reject);
  });
  await Promise.all(workers.map(message)); // all warmed up
  const results = workers.map(message);
  for (const w of workers) w.postMessage('go');
  const done = (await Promise.all(results)) as unknown as WorkerResult[];
  await Promise.all(workers.map((w) => w.terminate()));
  const tweets = done.reduce((n, r) => n + r.tweets, 0);
  const seconds = Math.max(...done.map((r) => r.seconds));
  const latencies = done.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  return {
    tweetsPerSecond: Math.round(tweets / seconds),
    batch: options.batch,
    threads: options.threads,
    sessions: options.sessions,
    seconds: Number(seconds.toFixed(2)),
    tweets,
    batches: done.reduce((n, r) => n + r.batches, 0),
    batchLatencyMs: {
      p50: Number(percentile(latencies, 50).toFixed(3)),
      p95: Number(percentile(latencies, 95).toFixed(3)),
      p99: Number(percentile(latencies, 99).toFixed(3)),
      mean: Number((latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length)).toFixed(3)),
    },
    perSessionTweetsPerSecond: done.map((r) => Math.round(r.tweets / r.seconds)),
  };
}

async function main() {
  const tokenized = tokenize(base);
  const first = await prepare({ ...base, batch: batchSizes[0]!, grouping: groupings[0]! }, tokenized);
  const realTokens = first.realTokens;
  const context = {
    model: first.files.name,
    onnx: first.files.onnxPath,
    onnxSha256: (await fileSha256(first.files.onnxPath)).slice(0, 16),
    texts: first.texts,
    meanTokens: Number((realTokens / Math.max(1, first.texts)).toFixed(1)),
    padMultiple: base.padMultiple,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    node: process.version,
    onnxruntime: (requireHere('onnxruntime-node') as { env: { versions: Record<string, string> } }).env.versions.node,
  };
  const describe = (prepared: Prepared, options: Options) => ({
    grouping: options.grouping,
    preparedBatches: prepared.batches.length,
    paddingRatio: Number(prepared.paddingRatio.toFixed(3)),
    paddingOverhead: Number((prepared.paddingRatio - 1).toFixed(3)),
    ...(options.grouping === 'length' ? { queue: options.queue || prepared.texts, maxBatchTokens: options.maxBatchTokens || null } : {}),
  });
  if (values.sweep) {
    const cores = availableParallelism();
    const layouts: Array<[number, number]> = [[1, 1], [1, cores], [cores, 1]];
    if (cores > 2) layouts.push([Math.max(1, Math.floor(cores / 2)), 2]);
    const options = { ...base, batch: batchSizes[0]!, grouping: groupings[0]! };
    const results = [];
    for (const [sessions, threads] of layouts) {
      const r = await runLayout({ ...options, sessions, threads }, first);
      console.error(`sessions=${sessions} threads=${threads}: ${r.tweetsPerSecond} tweets/s, p50 ${r.batchLatencyMs.p50} ms/batch`);
      results.push(r);
    }
    const fastest = results.reduce((a, b) => (b.tweetsPerSecond > a.tweetsPerSecond ? b : a));
    console.log(JSON.stringify({ fastest: { sessions: fastest.sessions, threads: fastest.threads, tweetsPerSecond: fastest.tweetsPerSecond }, results, ...describe(first, options), ...context }, null, 2));
    return;
  }
  const runs = [];
  for (const batch of batchSizes) {
    // At batch 1 both groupings give the same batches: measured once.
    for (const grouping of batch === 1 ? groupings.slice(0, 1) : groupings) {
      const options = { ...base, batch, grouping };
      const prepared: Prepared = runs.length === 0 ? first : await prepare(options, tokenized);
      const r = { ...await runLayout(options, prepared), ...describe(prepared, options) };
      console.error(`batch ${batch}, ${grouping} order: ${r.tweetsPerSecond} tweets/s, padding ratio ${r.paddingRatio}, p50 ${r.batchLatencyMs.p50} ms/batch`);
      runs.push(r);
    }
  }
  if (runs.length === 1) {
    console.log(JSON.stringify({ ...runs[0], ...context }, null, 2));
    return;
  }
  const best = runs.reduce((a, b) => (b.tweetsPerSecond > a.tweetsPerSecond ? b : a));
  console.log(JSON.stringify({
    tweetsPerSecond: best.tweetsPerSecond,
    best: { batch: best.batch, grouping: best.grouping, paddingRatio: best.paddingRatio, sessions: best.sessions, threads: best.threads },
    results: runs,
    ...context,
  }, null, 2));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
