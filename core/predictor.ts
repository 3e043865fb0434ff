// Texts in, per-text model outputs out, for every way into the service (HTTP routes of each protocol,
// streams, the command line): the one door. It checks every text, answers what the prediction cache knows,
// and queues the rest in the micro-batcher (batching/), grouped by a guess of their token counts
// (token-estimate.ts); each batch goes to a worker of the backend in one task, which tokenizes it and runs
// the model (inference/score-batch.ts). predict() settles once per call, predictEach() calls back per text
// (streams). The answer is protocol-neutral (TextResult): each transport writes its own body from it.
import { MicroBatcher, type BatcherOptions } from '../batching/batcher.js';
import { TEXT_TOO_MANY_TOKENS, TRUNCATIONS, paddedLength, type TokenDetail, type Truncation } from '../inference/protocol.js';
import { CallSink, EachSink, TOO_MANY_TOKENS, type CallContext, type ScoredText, type TextOutcome } from './call-sinks.js';
import { TooManyTextsError } from './errors.js';
import type { ServiceMetrics } from './metrics.js';
import type { ModelDescription, ServedModel } from './model.js';
import { ModelUsage } from './model-usage.js';
import type { PredictionCache } from './prediction-cache.js';
import {
  argmax,
  type PredictionSet, type PredictOptions, type PredictorLimits, type TextCallback, type TextResult,
} from './results.js';
import { checkText, checkTexts, type TextLimits } from './text-checks.js';

export type { Truncation } from '../inference/protocol.js';
export type { PredictionSet, PredictOptions, PredictorLimits, StageTimings, TextCallback, TextResult } from './results.js';

export type BatchingOptions = Pick<BatcherOptions<unknown, unknown>, 'maxBatchSize' | 'maxBatchTokens' | 'maxWaitMs' | 'maxQueue'>;

/** A queued text: what its batch's worker needs of it. */
interface QueuedText {
  text: string;
  /** Index into TRUNCATIONS. */
  truncation: number;
}

const defaultName = (i: number) => `texts.${i}`;

export class Predictor {
  readonly limits: PredictorLimits;
  readonly #queue: MicroBatcher<QueuedText, TextOutcome>;
  readonly #metrics: ServiceMetrics;
  readonly #cache: PredictionCache | undefined;
  readonly #usage = new ModelUsage();
  #model: ServedModel;
  /** A pump of the queue is scheduled for the end of this event-loop turn. */
  #pumpSoon = false;

  constructor(model: ServedModel, batching: BatchingOptions, limits: TextLimits & { requestTimeoutMs: number }, metrics: ServiceMetrics, cache?: PredictionCache) {
    this.#model = model;
    this.#metrics = metrics;
    this.#cache = cache;
    this.limits = { ...limits, maxQueue: batching.maxQueue, maxBatchSize: batching.maxBatchSize, maxBatchTokens: batching.maxBatchTokens };
    this.#queue = new MicroBatcher<QueuedText, TextOutcome>({
      ...batching,
      runner: (texts, group) => this.#score(texts, group as ServedModel),
      concurrency: model.backend.workers,
      // One sealed batch waits at each worker's door, so a worker that finishes starts the next at once.
      prefetch: model.backend.workers,
      // The batcher counts a text at the length its guessed token count pads to.
      padTo: (tokens) => paddedLength(tokens, this.#model.description.maxTokens),
      observer: metrics.batcherObserver(),
    });
  }

  /** The model serving now. */
  get model(): ModelDescription {
    return this.#model.description;
  }

  /** The deadline of a call that started at `startedAt`: REQUEST_TIMEOUT_MS later. */
  deadline(startedAt = performance.now()): number {
    return startedAt + this.limits.requestTimeoutMs;
  }

  /** Texts waiting for a batch. */
  get queueDepth(): number {
    return this.#queue.depth;
  }

  get batchesInFlight(): number {
    return this.#queue.inFlight;
  }

  get saturated(): boolean {
    return this.#queue.saturated;
  }

  get closed(): boolean {
    return this.#queue.closed;
  }

  /** Ready means: taking work, queue not saturated (transports may add their own conditions). */
  readiness(): { ready: boolean; reason?: 'shutting down' | 'queue saturated'; queueDepth: number; maxQueue: number } {
    const reason = this.closed ? 'shutting down' as const : this.saturated ? 'queue saturated' as const : undefined;
    return { ready: reason === undefined, ...(reason ? { reason } : {}), queueDepth: this.queueDepth, maxQueue: this.limits.maxQueue };
  }

  retryAfterSeconds(): number {
    return this.#queue.retryAfterSeconds();
  }

  /**
   * Every text of a call, or the first error: a text that breaks a limit (core/text-checks.ts), a refusal
   * of the whole call (queue full, shutting down), or a text that failed; the call's other texts then leave
   * the queue.
   */
  predict(texts: string[], options: PredictOptions): Promise<PredictionSet> {
    return new Promise<PredictionSet>((resolve, reject) => {
      const name = options.name ?? defaultName;
      checkTexts(texts, this.limits, name, options.listName);
      const model = this.#model;
      const truncation = options.truncation ?? 'right';
      const release = this.#hold(model);
      const results: TextResult[] = new Array(texts.length);
      const queue = (positions: number[] | undefined) => {
        const cacheHits = positions === undefined ? 0 : texts.length - positions.length;
        if ((positions ?? texts).length === 0) {
          release();
          resolve({ model: model.description, results, cacheHits, timings: { queueMs: 0, inferenceMs: 0 } });
          return;
        }
        const context = this.#context(model, texts, name, truncation, options.signal, release);
        const sink = new CallSink(context, results, positions, positions?.length ?? texts.length, (error) => {
          if (error !== undefined) reject(error);
          else resolve({ model: model.description, results, cacheHits, timings: { queueMs: sink.queueMs, inferenceMs: sink.inferenceMs } });
        });
        try {
          this.#enqueue(model, texts, positions, truncation, options.deadline, sink);
        } catch (error) {
          sink.refuse(error as Error);
        }
      };
      this.#fromCaches(model, texts, truncation, results, queue);
    });
  }

  /**
   * Each text answered on its own (streams): `onText(i, result | error)` once per text, never before this
   * returns; a failed text does not stop the others. Returns the model that answers them.
   */
  predictEach(texts: string[], options: PredictOptions, onText: TextCallback): ModelDescription {
    const name = options.name ?? defaultName;
    const model = this.#model;
    const truncation = options.truncation ?? 'right';
    const release = this.#hold(model);
    const invalid: [number, Error][] = [];
    const valid: number[] = [];
    for (let i = 0; i < texts.length; i++) {
      try {
        checkText(texts[i]!, this.limits, name(i));
        valid.push(i);
      } catch (error) {
        invalid.push([i, error as Error]);
      }
    }
    const validTexts = valid.length === texts.length ? texts : valid.map((i) => texts[i]!);
    const found: (TextResult | undefined)[] = new Array(validTexts.length);
    // Deferred: the caller hears of no text before this returns, whatever the cache or the queue say.
    queueMicrotask(() => this.#fromCaches(model, validTexts, truncation, found, (missing) => {
      for (const [i, error] of invalid) onText(i, error);
      for (let j = 0; j < validTexts.length; j++) if (found[j] !== undefined) onText(valid[j]!, found[j]!);
      const positions = missing === undefined ? valid : missing.map((j) => valid[j]!);
      if (positions.length === 0) {
        release();
        return;
      }
      const sink = new EachSink(this.#context(model, texts, name, truncation, options.signal, release), positions, positions.length, onText);
      try {
        this.#enqueue(model, texts, positions, truncation, options.deadline, sink);
      } catch (error) {
        sink.refuse(error as Error);
      }
    }));
    return model.description;
  }

  /** Every token of each text with its string (TEI's /tokenize), in a worker. */
  tokenize(texts: string[], options: { addSpecialTokens: boolean; name: (i: number) => string; listName?: string }): Promise<TokenDetail[][]> {
    checkTexts(texts, this.limits, options.name, options.listName);
    const model = this.#model;
    return this.#usage.hold(model, model.backend.tokenize(texts, options.addSpecialTokens));
  }

  /** Token ids back to texts (TEI's /decode), in a worker; as many sequences as MAX_CLIENT_BATCH texts. */
  decode(ids: number[][], options: { skipSpecialTokens: boolean; listName: string }): Promise<string[]> {
    if (ids.length > this.limits.maxClientBatch) return Promise.reject(new TooManyTextsError(options.listName, ids.length, this.limits.maxClientBatch));
    const model = this.#model;
    return this.#usage.hold(model, model.backend.decode(ids, options.skipSpecialTokens));
  }

  /**
   * Serves `next` to every call from now on, and resolves once no call uses the previous model any more
   * (its texts already queued finish on it), with its workers stopped. Batches never mix the two: the
   * batcher groups texts by model.
   */
  async swap(next: ServedModel): Promise<ModelDescription> {
    const previous = this.#model;
    this.#model = next;
    await this.#usage.released(previous);
    await previous.backend.close();
    return previous.description;
  }

  /** Stops taking requests, finishes every accepted one, then stops the workers. */
  async close(): Promise<void> {
    await this.#queue.close();
    await this.#model.backend.close();
  }

  /** Holds `model` for a call (a swap waits for it); returns the release, which runs once. */
  #hold(model: ServedModel): () => void {
    this.#usage.acquire(model);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#usage.release(model);
    };
  }

  #context(
    model: ServedModel, texts: readonly string[], name: (i: number) => string, truncation: Truncation,
    client: PredictOptions['signal'], settled: () => void,
  ): CallContext {
    return {
      texts, name, truncation, client, settled,
      maxTokens: model.description.maxTokens,
      modelSha256: model.description.sha256,
      cache: this.#cache,
    };
  }

  /**
   * Fills `results` with the answers the caches hold (memory, then Redis when configured), then calls `next`
   * with the positions of the texts still to compute, or undefined when there is no cache (all of them):
   * at once when the memory answers, after the round trip when Redis is asked.
   */
  #fromCaches(model: ServedModel, texts: readonly string[], truncation: Truncation, results: (TextResult | undefined)[], next: (missing: number[] | undefined) => void): void {
    const cache = this.#cache;
    const missing = this.#fromCache(model, texts, truncation, results);
    if (cache === undefined || missing === undefined || missing.length === 0 || !cache.remote) {
      next(missing);
      return;
    }
    // Redis failures are misses (lookupRemote never rejects).
    void cache.lookupRemote(texts, results, model.description.sha256, truncation).then(() => next(this.#countRemoteHits(model, results, missing)));
  }

  /**
   * Fills `results` with the answers the in-memory cache holds; returns the positions of the texts still to
   * compute, or undefined when there is no cache (all of them).
   */
  #fromCache(model: ServedModel, texts: readonly string[], truncation: Truncation, results: (TextResult | undefined)[]): number[] | undefined {
    if (this.#cache === undefined) return undefined;
    const { found, hits } = this.#cache.lookup(texts, model.description.sha256, truncation);
    const missing: number[] = [];
    const counts = new Int32Array(model.description.labels.length);
    for (let i = 0; i < texts.length; i++) {
      const result = found[i];
      if (result === undefined) missing.push(i);
      else {
        results[i] = result;
        counts[result.labelIndex]!++;
      }
    }
    if (hits > 0) this.#metrics.countPredictions(model.description.labels, counts);
    return missing;
  }

  /** The positions Redis did not answer either, once it filled `results`; its answers counted. */
  #countRemoteHits(model: ServedModel, results: (TextResult | undefined)[], positions: number[]): number[] {
    const counts = new Int32Array(model.description.labels.length);
    const missing = positions.filter((i) => {
      const result = results[i];
      if (result !== undefined) counts[result.labelIndex]!++;
      return result === undefined;
    });
    if (missing.length < positions.length) this.#metrics.countPredictions(model.description.labels, counts);
    return missing;
  }

  /**
   * Queues the texts at `positions` (all when undefined), then pumps at the end of this event-loop turn:
   * the calls read in one turn reach an idle worker as one batch, one task instead of one per call. Throws
   * the batcher's refusal of the whole call.
   */
  #enqueue(model: ServedModel, texts: readonly string[], positions: readonly number[] | undefined, truncation: Truncation, deadline: number, sink: CallSink | EachSink): void {
    const code = TRUNCATIONS.indexOf(truncation);
    const count = positions?.length ?? texts.length;
    const entries = new Array<{ payload: QueuedText; tokens: number }>(count);
    for (let j = 0; j < count; j++) {
      const text = texts[positions?.[j] ?? j]!;
      entries[j] = { payload: { text, truncation: code }, tokens: model.estimate.tokens(text) };
    }
    this.#queue.enqueue(entries, { deadline, signal: sink, group: model }, sink);
    if (!this.#pumpSoon) {
      this.#pumpSoon = true;
      setImmediate(() => {
        this.#pumpSoon = false;
        this.#queue.pump();
      });
    }
  }

  /** Runs one batch in a worker of its model's backend, and counts it. */
  async #score(queued: QueuedText[], model: ServedModel): Promise<TextOutcome[]> {
    const count = queued.length;
    const texts = new Array<string>(count);
    const truncation = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      texts[i] = queued[i]!.text;
      truncation[i] = queued[i]!.truncation;
    }
    const { labels } = model.description;
    let scored;
    try {
      scored = await model.backend.score(texts, truncation, model.description.runRows, this.limits.maxBatchTokens);
    } catch (error) {
      if ((error as { code?: string }).code === 'WORKER_CRASHED') this.#metrics.countRejection('worker_crashed', count);
      throw error;
    }
    const width = labels.length;
    const counts = new Int32Array(width);
    const outcomes = new Array<TextOutcome>(count);
    let learnedChars = 0;
    let learnedTexts = 0;
    let learnedTokens = 0;
    for (let i = 0; i < count; i++) {
      if (scored.status[i] === TEXT_TOO_MANY_TOKENS) {
        outcomes[i] = TOO_MANY_TOKENS;
        continue;
      }
      const probabilities = scored.probabilities.subarray(i * width, (i + 1) * width);
      const labelIndex = argmax(probabilities);
      counts[labelIndex]!++;
      const truncated = scored.truncated[i] === 1;
      const result: ScoredText = { labelIndex, probabilities, logits: scored.logits.subarray(i * width, (i + 1) * width), truncated, inferenceMs: scored.ms };
      outcomes[i] = result;
      if (!truncated) {
        learnedChars += texts[i]!.length;
        learnedTexts++;
        learnedTokens += scored.tokens[i]!;
      }
    }
    model.estimate.learn(learnedChars, learnedTexts, learnedTokens);
    this.#metrics.countBatch(count, scored);
    this.#metrics.countPredictions(labels, counts);
    return outcomes;
  }
}
