// Texts in, predictions out, in two queued stages that share one design (batching/): texts are tokenized in
// a tokenizer worker, several at a time whenever one is free; their ids join the micro-batcher, whose
// batches run in the inference workers; the softmax scores become labelled predictions. Routes call only
// this.
import { MicroBatcher, type BatcherOptions } from '../batching/batcher.js';
import type { InferencePool } from '../inference/pool.js';
import type { ServiceMetrics } from './metrics.js';
import type { PredictionCache } from './prediction-cache.js';

export function toPrediction(labels: readonly string[], probabilities: Float32Array, truncated: boolean): Prediction {
  const scores: Record<string, number> = {};
  let best = 0;
  for (let k = 0; k < labels.length; k++) {
    scores[labels[k]!] = probabilities[k]!;
    if (probabilities[k]! > probabilities[best]!) best = k;
  }
  return { label: labels[best]!, score: probabilities[best]!, scores, truncated };
}

/** Sequence lengths are padded to multiples of 8: a bounded set of shapes for ONNX Runtime. */
export const LENGTH_MULTIPLE = 8;
/** Most texts one tokenizer task takes (tokenizing is cheap; this only bounds one message). */
const MAX_TOKENIZE_BATCH = 256;

export interface Prediction {
  label: string;
  score: number;
  scores: Record<string, number>;
  truncated: boolean;
}

export interface PredictionTimings {
  /** Longest wait of the call's texts in the batching queue, ms. */
  queueMs: number;
  /** Longest inference time of the batches that ran the call's texts, ms. */
  inferenceMs: number;
  /** Time to tokenize the call's texts, waiting for a tokenizer worker included, ms. */
  tokenizeMs: number;
}

export interface PredictionOutcome {
  predictions: Prediction[];
  timings: PredictionTimings;
  model: ServedModel;
  /** Texts answered from the cache. */
  cacheHits: number;
}

/** A loaded model: its files' facts and the pool of workers serving it. */
export interface ServedModel {
  pool: InferencePool;
  labels: readonly string[];
  sha256: string;
  /** Short sha256 of the ONNX file (12 hex digits), sent as x-model-version. */
  version: string;
  loadedAt: Date;
}

interface TextPayload {
  model: ServedModel;
  text: string;
}

interface Tokenized {
  ids: Int32Array;
  truncated: boolean;
}

interface IdsPayload {
  model: ServedModel;
  ids: Int32Array;
}

interface Row {
  probabilities: Float32Array;
  inferenceMs: number;
}

export type BatchingOptions = Pick<BatcherOptions<IdsPayload, Row>, 'maxBatchSize' | 'maxBatchTokens' | 'maxWaitMs' | 'maxQueue'>;

export interface PredictOptions {
  /** Absolute time (performance.now()) after which waiting texts are dropped with DEADLINE_EXCEEDED. */
  deadline: number;
  /** Reads true once the client has gone (an AbortSignal, or any such view). */
  signal?: { readonly aborted: boolean };
}

export class Predictor {
  readonly #tokenizing: MicroBatcher<TextPayload, Tokenized>;
  readonly #batcher: MicroBatcher<IdsPayload, Row>;
  readonly #metrics: ServiceMetrics;
  readonly #cache: PredictionCache | undefined;
  #model: ServedModel;
  /** Calls in progress per model, so a swapped-out model is released only once nothing uses it. */
  readonly #inUse = new Map<ServedModel, { calls: number; released?: () => void }>();

  constructor(model: ServedModel, batching: BatchingOptions, metrics: ServiceMetrics, cache?: PredictionCache) {
    this.#model = model;
    this.#metrics = metrics;
    this.#cache = cache;
    const observer = metrics.batcherObserver();
    this.#tokenizing = new MicroBatcher<TextPayload, Tokenized>({
      runner: (payloads) => this.#tokenize(payloads),
      // Everything waiting goes as soon as a tokenizer worker is free: no wait window, no token budget.
      maxBatchSize: MAX_TOKENIZE_BATCH,
      maxBatchTokens: MAX_TOKENIZE_BATCH,
      maxWaitMs: 0,
      maxQueue: batching.maxQueue,
      concurrency: model.pool.tokenizerThreads,
      prefetch: 0,
      lengthMultiple: 1,
      observer: { onReject: observer.onReject },
    });
    this.#batcher = new MicroBatcher<IdsPayload, Row>({
      ...batching,
      runner: (payloads) => this.#infer(payloads),
      concurrency: model.pool.workers,
      // One sealed batch waits at each worker's door, so a worker that finishes starts the next at once.
      prefetch: model.pool.workers,
      lengthMultiple: LENGTH_MULTIPLE,
      observer,
    });
  }

  get model(): ServedModel {
    return this.#model;
  }

  /** Texts waiting for a tokenizer or for a batch. */
  get queueDepth(): number {
    return this.#tokenizing.depth + this.#batcher.depth;
  }

  get batchesInFlight(): number {
    return this.#batcher.inFlight;
  }

  get saturated(): boolean {
    return this.#tokenizing.saturated || this.#batcher.saturated;
  }

  get closed(): boolean {
    return this.#batcher.closed;
  }

  retryAfterSeconds(): number {
    return this.#batcher.retryAfterSeconds();
  }

  /** One async function for the whole path (cache, tokenizer, batcher): it runs for every request. */
  async predict(texts: string[], options: PredictOptions): Promise<PredictionOutcome> {
    const model = this.#model;
    const usage = this.#inUse.get(model) ?? { calls: 0 };
    this.#inUse.set(model, usage);
    usage.calls++;
    try {
      const timings: PredictionTimings = { queueMs: 0, inferenceMs: 0, tokenizeMs: 0 };
      const predictions: (Prediction | undefined)[] = this.#cache ? await this.#cache.lookup(texts, model.sha256) : new Array(texts.length);
      const missing: number[] = [];
      for (let i = 0; i < texts.length; i++) if (predictions[i] === undefined) missing.push(i);
      if (missing.length > 0) {
        const submitOptions = { deadline: options.deadline, signal: options.signal, group: model };
        const tokenized = await Promise.all(this.#tokenizing.submitMany(missing.map((i) => ({ payload: { model, text: texts[i]! }, tokens: 1 })), submitOptions));
        const entries = tokenized.map(({ value }) => ({ payload: { model, ids: value.ids }, tokens: value.ids.length }));
        const completed = await Promise.all(this.#batcher.submitMany(entries, submitOptions));
        completed.forEach((done, j) => {
          timings.queueMs = Math.max(timings.queueMs, done.queueMs);
          timings.inferenceMs = Math.max(timings.inferenceMs, done.value.inferenceMs);
          timings.tokenizeMs = Math.max(timings.tokenizeMs, tokenized[j]!.queueMs + tokenized[j]!.runMs);
          predictions[missing[j]!] = toPrediction(model.labels, done.value.probabilities, tokenized[j]!.value.truncated);
        });
        this.#cache?.store(missing.map((i) => texts[i]!), missing.map((i) => predictions[i]!), model.sha256);
      }
      for (const prediction of predictions) this.#metrics.predictions.inc({ label: prediction!.label });
      return { predictions: predictions as Prediction[], timings, model, cacheHits: texts.length - missing.length };
    } finally {
      if (--usage.calls === 0 && model !== this.#model) {
        this.#inUse.delete(model);
        usage.released?.();
      }
    }
  }

  /**
   * Serves `next` to every call from now on, and resolves once no call uses the previous model any more
   * (its texts already queued finish on it), with its workers stopped. Batches never mix the two: the
   * batchers group texts by model.
   */
  async swap(next: ServedModel): Promise<ServedModel> {
    const previous = this.#model;
    this.#model = next;
    const usage = this.#inUse.get(previous);
    if (usage && usage.calls > 0) await new Promise<void>((resolve) => { usage.released = resolve; });
    this.#inUse.delete(previous);
    await previous.pool.close();
    return previous;
  }

  /** Stops taking requests, finishes every accepted one, then stops the workers. */
  async close(): Promise<void> {
    // Tokenized texts move on to the batcher, so the batcher closes last.
    await this.#tokenizing.close();
    await this.#batcher.close();
    await this.#model.pool.close();
  }

  async #tokenize(payloads: TextPayload[]): Promise<Tokenized[]> {
    // The batchers group by model: every text of a batch is for the same model.
    const encoded = await this.#withCrashCount(payloads.length, () => payloads[0]!.model.pool.encode(payloads.map((payload) => payload.text)));
    this.#metrics.tokenization.observe(encoded.ms / 1000);
    return payloads.map((_, i) => ({
      ids: encoded.ids.subarray(encoded.offsets[i]!, encoded.offsets[i + 1]!),
      truncated: encoded.truncated[i] === 1,
    }));
  }

  async #infer(payloads: IdsPayload[]): Promise<Row[]> {
    let total = 0;
    for (const payload of payloads) total += payload.ids.length;
    const ids = new Int32Array(total);
    const offsets = new Int32Array(payloads.length + 1);
    payloads.forEach((payload, i) => {
      ids.set(payload.ids, offsets[i]);
      offsets[i + 1] = offsets[i]! + payload.ids.length;
    });
    const model = payloads[0]!.model;
    const result = await this.#withCrashCount(payloads.length, () => model.pool.infer(ids, offsets));
    this.#metrics.inference.observe(result.ms / 1000);
    const width = model.labels.length;
    return payloads.map((_, i) => ({ probabilities: result.probabilities.subarray(i * width, (i + 1) * width), inferenceMs: result.ms }));
  }

  async #withCrashCount<T>(texts: number, task: () => Promise<T>): Promise<T> {
    try {
      return await task();
    } catch (error) {
      if ((error as { code?: string }).code === 'WORKER_CRASHED') this.#metrics.countRejection('worker_crashed', texts);
      throw error;
    }
  }
}
