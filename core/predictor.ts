// Texts in, per-text model outputs out, for every way into the service (HTTP routes of each protocol,
// streams, the command line). Two queued stages share one design (batching/): texts are tokenized in a
// tokenizer worker, several at a time (all that arrived in one event-loop turn, or all that waited while
// inference had enough queued); their ids join the micro-batcher, whose batches run in the inference
// workers. Each text settles on its own (predictEach); predict() gathers a call's texts and drops the rest
// of the call at its first failure. The answer is protocol-neutral (TextResult): each
// transport writes its own body from it.
import { MicroBatcher, type BatcherOptions, type Completed, type SubmitOptions } from '../batching/batcher.js';
import type { InferencePool } from '../inference/pool.js';
import { paddedLength, type TokenDetail, type Truncation } from '../inference/protocol.js';
import { TooManyTokensError } from './errors.js';
import type { ServiceMetrics } from './metrics.js';
import type { ModelDescription, ServedModel } from './model.js';
import type { PredictionCache } from './prediction-cache.js';
import { ModelUsage } from './model-usage.js';
import {
  fromCache, toResult,
  type ModelOutput, type PredictionSet, type PredictionStream, type PredictOptions, type PredictorLimits, type StageTimings, type TextResult, type Tokenized,
} from './results.js';
import type { TextLimits } from './text-checks.js';

export type { Truncation } from '../inference/protocol.js';
export type { PredictionSet, PredictionStream, PredictOptions, PredictorLimits, StageTimings, TextResult } from './results.js';

export type BatchingOptions = Pick<BatcherOptions<unknown, unknown>, 'maxBatchSize' | 'maxBatchTokens' | 'maxWaitMs' | 'maxQueue'>;

/** Most texts one tokenizer task takes (tokenizing is cheap; this only bounds one message). */
const MAX_TOKENIZE_BATCH = 256;

interface TextPayload { model: ServedModel; text: string; truncation: Truncation }
interface IdsPayload { model: ServedModel; ids: Int32Array }

/** A tokenized text on its way to the inference batcher, with its call's submit options. */
interface ReadyText {
  payload: IdsPayload;
  submit: SubmitOptions;
  resolve(completed: Completed<ModelOutput>): void;
  reject(error: unknown): void;
}

export class Predictor {
  readonly limits: PredictorLimits;
  readonly #tokenizerQueue: MicroBatcher<TextPayload, Tokenized>;
  readonly #inferenceQueue: MicroBatcher<IdsPayload, ModelOutput>;
  readonly #metrics: ServiceMetrics;
  readonly #cache: PredictionCache | undefined;
  readonly #usage = new ModelUsage();
  #model: ServedModel;
  /** Tokenized texts not yet submitted: gathered within a tick so that a call's texts are queued together. */
  #ready: ReadyText[] = [];
  /** A pump of the tokenizer queue is scheduled for the end of this event-loop turn. */
  #tokenizePumpSoon = false;

  constructor(model: ServedModel, batching: BatchingOptions, limits: TextLimits & { requestTimeoutMs: number }, metrics: ServiceMetrics, cache?: PredictionCache) {
    this.#model = model;
    this.#metrics = metrics;
    this.#cache = cache;
    this.limits = { ...limits, maxQueue: batching.maxQueue, maxBatchSize: batching.maxBatchSize, maxBatchTokens: batching.maxBatchTokens };
    const observer = metrics.batcherObserver();
    this.#tokenizerQueue = new MicroBatcher<TextPayload, Tokenized>({
      runner: (payloads) => this.#tokenize(payloads),
      // Everything waiting goes as soon as a tokenizer worker is free: no wait window, no token budget.
      maxBatchSize: MAX_TOKENIZE_BATCH,
      maxBatchTokens: MAX_TOKENIZE_BATCH,
      maxWaitMs: 0,
      maxQueue: batching.maxQueue,
      concurrency: model.pool.tokenizerThreads,
      prefetch: 0,
      lengthMultiple: 1,
      // Each tokenizer task wakes two threads (there and back), which costs more than tokenizing a few
      // tweets. While the inference queue already holds four full batches per worker, tokenizing more
      // now only lengthens it: texts wait here instead, and go in one task as a batch leaves (below).
      hold: () => this.#inferenceQueue.depth >= this.#tokenizeAhead(),
      observer: { onReject: observer.onReject },
    });
    this.#inferenceQueue = new MicroBatcher<IdsPayload, ModelOutput>({
      ...batching,
      runner: (payloads) => this.#infer(payloads),
      concurrency: model.pool.workers,
      // One sealed batch waits at each worker's door, so a worker that finishes starts the next at once.
      prefetch: model.pool.workers,
      // The batcher counts a text at the length the worker pads it to (inference/protocol.ts).
      padTo: (tokens) => paddedLength(tokens, this.#model.description.maxTokens),
      // A batch leaving, or texts dropped, may lift the tokenizer queue's hold.
      observer: {
        onBatchStart: (info) => {
          observer.onBatchStart?.(info);
          this.#tokenizerQueue.pump();
        },
        onReject: (reason, texts) => {
          observer.onReject?.(reason, texts);
          this.#tokenizerQueue.pump();
        },
      },
    });
  }

  /**
   * Texts waiting for inference beyond which tokenizing waits: four full batches per inference worker. Two
   * halved the tokenizer tasks again but left the batcher fewer lengths to group (padding 1.22 → 1.26 on the
   * shipped model through NGINX, 1.19 → 1.22 direct); four gave 1.19 direct again in the one run that tried it.
   */
  #tokenizeAhead(): number {
    return 4 * this.limits.maxBatchSize * this.#model.pool.workers;
  }

  /** The model serving now. */
  get model(): ModelDescription {
    return this.#model.description;
  }

  /** The workers of the model serving now: for fault-injection tests and crash accounting only. */
  get pool(): InferencePool {
    return this.#model.pool;
  }

  /** The deadline of a call that started at `startedAt`: REQUEST_TIMEOUT_MS later. */
  deadline(startedAt = performance.now()): number {
    return startedAt + this.limits.requestTimeoutMs;
  }

  /** Texts waiting for a tokenizer or for a batch. */
  get queueDepth(): number {
    return this.#tokenizerQueue.depth + this.#inferenceQueue.depth;
  }

  get batchesInFlight(): number {
    return this.#inferenceQueue.inFlight;
  }

  get saturated(): boolean {
    return this.#tokenizerQueue.saturated || this.#inferenceQueue.saturated;
  }

  get closed(): boolean {
    return this.#inferenceQueue.closed;
  }

  /** Ready means: taking work, queue not saturated (transports may add their own conditions). */
  readiness(): { ready: boolean; reason?: 'shutting down' | 'queue saturated'; queueDepth: number; maxQueue: number } {
    const reason = this.closed ? 'shutting down' as const : this.saturated ? 'queue saturated' as const : undefined;
    return { ready: reason === undefined, ...(reason ? { reason } : {}), queueDepth: this.queueDepth, maxQueue: this.limits.maxQueue };
  }

  retryAfterSeconds(): number {
    return this.#inferenceQueue.retryAfterSeconds(this.#tokenizerQueue.depth);
  }

  /** Every text of a call, or the first error; the call's other texts then leave the queue. */
  async predict(texts: string[], options: PredictOptions): Promise<PredictionSet> {
    let failed = false;
    const client = options.signal;
    const signal = { get aborted() { return failed || (client?.aborted ?? false); } };
    const { model, results } = this.predictEach(texts, { ...options, signal });
    let settled: TextResult[];
    try {
      settled = await Promise.all(results);
    } catch (error) {
      failed = true;
      throw error;
    }
    const timings: StageTimings = { tokenizeMs: 0, queueMs: 0, inferenceMs: 0 };
    let cacheHits = 0;
    for (const result of settled) {
      if (result.cached) cacheHits++;
      timings.tokenizeMs = Math.max(timings.tokenizeMs, result.timings.tokenizeMs);
      timings.queueMs = Math.max(timings.queueMs, result.timings.queueMs);
      timings.inferenceMs = Math.max(timings.inferenceMs, result.timings.inferenceMs);
    }
    return { model, results: settled, cacheHits, timings };
  }

  /** One promise per text, each settled on its own (streams): a failed text does not stop the others. */
  predictEach(texts: string[], options: PredictOptions): PredictionStream {
    const model = this.#model;
    const truncation = options.truncation ?? 'right';
    const submit: SubmitOptions = { deadline: options.deadline, signal: options.signal, group: model };
    const name = options.name ?? ((i: number) => `texts.${i}`);
    let results: Promise<TextResult>[];
    if (this.#cache) {
      const cache = this.#cache;
      const looked = cache.lookup(texts, model.description.sha256, truncation).then(({ keys, found }) => {
        const missing: number[] = [];
        for (let i = 0; i < texts.length; i++) if (found[i] === undefined) missing.push(i);
        const computed = this.#compute(model, missing.map((i) => texts[i]!), truncation, submit, (j) => name(missing[j]!));
        const stored = computed.map((result, j) => result.then((value) => {
          cache.store(keys[missing[j]!]!, value);
          return value;
        }));
        let next = 0;
        return found.map((output) => (output ? Promise.resolve(fromCache(output)) : stored[next++]!));
      });
      results = texts.map((_, i) => looked.then((byText) => byText[i]!));
    } else {
      results = this.#compute(model, texts, truncation, submit, name);
    }
    for (const result of results) result.then((value) => this.#metrics.predictions.inc({ label: model.description.labels[value.labelIndex]! }), () => undefined);
    this.#usage.hold(model, results);
    return { model: model.description, results };
  }

  /** Every token of each text with its string (TEI's /tokenize), in a tokenizer worker. */
  tokenize(texts: string[], options: { addSpecialTokens: boolean }): Promise<TokenDetail[][]> {
    const model = this.#model;
    const done = model.pool.tokenize(texts, options.addSpecialTokens);
    this.#usage.hold(model, [done]);
    return done;
  }

  /** Token ids back to texts (TEI's /decode), in a tokenizer worker. */
  decode(ids: number[][], options: { skipSpecialTokens: boolean }): Promise<string[]> {
    const model = this.#model;
    const done = model.pool.decode(ids, options.skipSpecialTokens);
    this.#usage.hold(model, [done]);
    return done;
  }

  /**
   * Serves `next` to every call from now on, and resolves once no call uses the previous model any more
   * (its texts already queued finish on it), with its workers stopped. Batches never mix the two: the
   * batchers group texts by model.
   */
  async swap(next: ServedModel): Promise<ModelDescription> {
    const previous = this.#model;
    this.#model = next;
    await this.#usage.released(previous);
    await previous.pool.close();
    return previous.description;
  }

  /** Stops taking requests, finishes every accepted one, then stops the workers. */
  async close(): Promise<void> {
    // Tokenized texts move on to the batcher, so the batcher closes last.
    await this.#tokenizerQueue.close();
    await this.#inferenceQueue.close();
    await this.#model.pool.close();
  }

  /** Tokenizes texts, then queues each for inference as soon as its tokens are known. */
  #compute(model: ServedModel, texts: string[], truncation: Truncation, submit: SubmitOptions, name: (i: number) => string): Promise<TextResult>[] {
    if (texts.length === 0) return [];
    // Queued now, sent to a tokenizer worker once this event-loop turn has read every request that arrived
    // with this one (setImmediate runs right after the poll phase: no waiting, even for a lone request):
    // one task and one thread wake-up for all of them, where a task per call cost more than tokenizing.
    const tokenizing = this.#tokenizerQueue.enqueueMany(texts.map((text) => ({ payload: { model, text, truncation }, tokens: 1 })), submit);
    if (!this.#tokenizePumpSoon) {
      this.#tokenizePumpSoon = true;
      setImmediate(() => {
        this.#tokenizePumpSoon = false;
        this.#tokenizerQueue.pump();
      });
    }
    return tokenizing.map((tokenized, i) => tokenized.then((done) => {
      if (done.value.truncated && truncation === 'none') throw new TooManyTokensError(name(i), model.description.maxTokens);
      return this.#queueForInference({ model, ids: done.value.ids }, submit).then((inferred) => toResult(done, inferred));
    }));
  }

  /**
   * Texts tokenized in the same tick (a tokenizer task answers many at once) are submitted together, one
   * submitMany per call: a call's texts are admitted as a group and can share a batch.
   */
  #queueForInference(payload: IdsPayload, submit: SubmitOptions): Promise<Completed<ModelOutput>> {
    return new Promise((resolve, reject) => {
      if (this.#ready.length === 0) queueMicrotask(() => this.#submitReady());
      this.#ready.push({ payload, submit, resolve, reject });
    });
  }

  #submitReady(): void {
    const ready = this.#ready;
    this.#ready = [];
    const byCall = new Map<SubmitOptions, ReadyText[]>();
    for (const text of ready) {
      const group = byCall.get(text.submit);
      if (group) group.push(text);
      else byCall.set(text.submit, [text]);
    }
    for (const [submit, group] of byCall) {
      const completions = this.#inferenceQueue.submitMany(group.map((text) => ({ payload: text.payload, tokens: text.payload.ids.length })), submit);
      completions.forEach((completion, i) => completion.then(group[i]!.resolve, group[i]!.reject));
    }
  }

  async #tokenize(payloads: TextPayload[]): Promise<Tokenized[]> {
    // The batchers group by model: every text of a batch is for the same model.
    const encoded = await this.#withCrashCount(payloads.length, () => payloads[0]!.model.pool.encode(payloads.map((p) => p.text), payloads.map((p) => p.truncation)));
    this.#metrics.tokenization.observe(encoded.ms / 1000);
    return payloads.map((_, i) => ({
      ids: encoded.ids.subarray(encoded.offsets[i]!, encoded.offsets[i + 1]!),
      truncated: encoded.truncated[i] === 1,
    }));
  }

  async #infer(payloads: IdsPayload[]): Promise<ModelOutput[]> {
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
    const width = model.description.labels.length;
    return payloads.map((_, i) => ({
      logits: result.logits.subarray(i * width, (i + 1) * width),
      probabilities: result.probabilities.subarray(i * width, (i + 1) * width),
      inferenceMs: result.ms,
    }));
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
