// Texts in, per-text model outputs out, for every way into the service (HTTP routes of each protocol,
// streams, the command line): the one door. It checks every text, answers what the prediction cache knows,
// and queues the rest in the micro-batcher (batching/), grouped by a guess of their token counts
// (token-estimate.ts); each batch goes to a worker of the backend in one task, which tokenizes it and runs
// the model (inference/score-batch.ts). predict() settles once per call, predictEach() calls back per text
// (streams). The answer is protocol-neutral (TextResult): each transport writes its own body from it.
// Every text is first normalized as its model declares (text-preprocessing.ts), before the cache is asked;
// a text to explain brings its leave-one-word-out variants into the same call (explanations.ts); a batch's
// answers, once decided, may be shown to a shadow candidate model (shadow.ts).
import { MicroBatcher, type BatcherOptions } from '../batching/batcher.js';
import { TRUNCATIONS, paddedLength, type TokenDetail, type Truncation } from '../inference/protocol.js';
import { runBatch, type LiveBatch, type LiveBatchTap, type QueuedText } from './batch-runner.js';
import { CachedAnswers } from './cached-answers.js';
import { CallSink, EachSink, type CallContext, type TextOutcome } from './call-sinks.js';
import { CoreError, TooManyTextsError } from './errors.js';
import { ExplainPlan } from './explanations.js';
import type { ServiceMetrics } from './metrics.js';
import type { ModelDescription, ServedModel } from './model.js';
import { ModelUsage } from './model-usage.js';
import type { PredictionCache } from './prediction-cache.js';
import type { PredictionSet, PredictOptions, PredictorLimits, TextCallback, TextResult } from './results.js';
import { checkText, checkTexts, type TextLimits } from './text-checks.js';

export type { Truncation } from '../inference/protocol.js';
export type { PredictionSet, PredictOptions, PredictorLimits, StageTimings, TextCallback, TextResult, WordWeight } from './results.js';


export type BatchingOptions = Pick<BatcherOptions<unknown, unknown>, 'maxBatchSize' | 'maxBatchTokens' | 'maxWaitMs' | 'maxQueue'>;

const defaultName = (i: number) => `texts.${i}`;

export class Predictor {
  readonly limits: PredictorLimits;
  readonly #queue: MicroBatcher<QueuedText, TextOutcome>;
  readonly #metrics: ServiceMetrics;
  readonly #cache: PredictionCache | undefined;
  readonly #cached: CachedAnswers;
  readonly #usage = new ModelUsage();
  #model: ServedModel;
  /** A pump of the queue is scheduled for the end of this event-loop turn. */
  #pumpSoon = false;
  /** Sees the live batches while a shadow candidate is loaded. */
  tap: LiveBatchTap | undefined;

  constructor(
    model: ServedModel, batching: BatchingOptions, limits: TextLimits & { requestTimeoutMs: number; explainMaxWords: number },
    metrics: ServiceMetrics, cache?: PredictionCache,
  ) {
    this.#model = model;
    this.#metrics = metrics;
    this.#cache = cache;
    this.#cached = new CachedAnswers(cache, metrics);
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
   * the queue. With `explain`, each text's variants without one of its words go in the same call.
   */
  predict(texts: string[], options: PredictOptions): Promise<PredictionSet> {
    return new Promise<PredictionSet>((resolve, reject) => {
      const name = options.name ?? defaultName;
      checkTexts(texts, this.limits, name, options.listName);
      const model = this.#model;
      const read = this.#read(model, texts);
      if (options.explain !== true) {
        this.#call(model, read, read.length, options, name, resolve, reject);
        return;
      }
      const plan = new ExplainPlan(texts, this.limits.explainMaxWords, name);
      if (plan.inputs > this.limits.maxQueue) {
        throw new CoreError('TOO_MANY_TEXTS', `explaining ${options.listName ?? 'texts'} takes ${plan.inputs} model inputs (each text, and each text without one of its words); the queue holds at most ${this.limits.maxQueue} (MAX_QUEUE): send fewer or shorter texts`);
      }
      const regression = model.description.problemType === 'regression';
      this.#call(model, read.concat(this.#read(model, plan.variants)), texts.length, options, plan.nameOf(name), (set) => {
        resolve({ ...set, results: set.results.slice(0, texts.length), explanations: plan.explanations(set.results, regression) });
      }, reject);
    });
  }

  /**
   * Each text answered on its own (streams): `onText(i, result | error)` once per text, never before this
   * returns; a failed text does not stop the others. Returns the model that answers them.
   */
  predictEach(texts: string[], options: PredictOptions, onText: TextCallback): ModelDescription {
    const name = options.name ?? defaultName;
    const model = this.#model;
    if (options.explain === true) {
      // A text and its variants settle together, and one text's failure is its own: one call per text.
      texts.forEach((text, i) => {
        this.predict([text], { ...options, name: () => name(i) }).then(
          (set) => onText(i, set.results[0]!, set.explanations![0]),
          (error: Error) => onText(i, error),
        );
      });
      return model.description;
    }
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
    const read = model.preprocess === undefined ? texts : texts.slice();
    if (model.preprocess !== undefined) for (const i of valid) read[i] = model.preprocess(texts[i]!);
    const validTexts = valid.length === texts.length ? read : valid.map((i) => read[i]!);
    const found = new Array<TextResult | undefined>(validTexts.length);
    // Deferred: the caller hears of no text before this returns, whatever the cache or the queue say.
    queueMicrotask(() => this.#cached.lookup(model.description, validTexts, truncation, found, (missing) => {
      for (const [i, error] of invalid) onText(i, error);
      for (let j = 0; j < validTexts.length; j++) if (found[j] !== undefined) onText(valid[j]!, found[j]!);
      const positions = missing === undefined ? valid : missing.map((j) => valid[j]!);
      if (positions.length === 0) {
        release();
        return;
      }
      const sink = new EachSink(this.#context(model, read, read.length, name, truncation, options.signal, release), positions, positions.length, onText);
      try {
        this.#enqueue(model, read, positions, read.length, truncation, options.deadline, sink);
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
    // The tokens the model reads: after its preprocessing.
    return this.#usage.hold(model, model.backend.tokenize(this.#read(model, texts), options.addSpecialTokens));
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

  /** The texts as `model` reads them: normalized as it declares (the same array when it declares nothing). */
  #read(model: ServedModel, texts: string[]): string[] {
    const preprocess = model.preprocess;
    return preprocess === undefined ? texts : texts.map((text) => preprocess(text));
  }

  /**
   * One call of texts already checked and normalized, the first `counted` of them the caller's (the rest
   * variants of texts to explain: scored, never cached nor monitored): `resolve` gets every answer, by
   * position, or `reject` the first error.
   */
  #call(
    model: ServedModel, texts: readonly string[], counted: number, options: PredictOptions, name: (i: number) => string,
    resolve: (set: PredictionSet) => void, reject: (error: Error) => void,
  ): void {
    const truncation = options.truncation ?? 'right';
    const release = this.#hold(model);
    const results = new Array<TextResult>(texts.length);
    const originals = counted === texts.length ? texts : texts.slice(0, counted);
    this.#cached.lookup(model.description, originals, truncation, results, (missing) => {
      const cacheHits = missing === undefined ? 0 : counted - missing.length;
      let positions = missing;
      if (counted < texts.length) {
        positions = missing ?? Array.from({ length: counted }, (_, i) => i);
        for (let i = counted; i < texts.length; i++) positions.push(i);
      }
      if ((positions ?? texts).length === 0) {
        release();
        resolve({ model: model.description, results, cacheHits, timings: { queueMs: 0, inferenceMs: 0 } });
        return;
      }
      const context = this.#context(model, texts, counted, name, truncation, options.signal, release);
      const sink = new CallSink(context, results, positions, positions?.length ?? texts.length, (error) => {
        if (error !== undefined) reject(error);
        else resolve({ model: model.description, results, cacheHits, timings: { queueMs: sink.queueMs, inferenceMs: sink.inferenceMs } });
      });
      try {
        this.#enqueue(model, texts, positions, counted, truncation, options.deadline, sink);
      } catch (error) {
        sink.refuse(error as Error);
      }
    });
  }

  #context(
    model: ServedModel, texts: readonly string[], counted: number, name: (i: number) => string, truncation: Truncation,
    client: PredictOptions['signal'], settled: () => void,
  ): CallContext {
    return {
      texts, counted, name, truncation, client, settled,
      maxTokens: model.description.maxTokens,
      modelSha256: model.description.sha256,
      cache: this.#cache,
    };
  }

  /**
   * Queues the texts at `positions` (all when undefined), then pumps at the end of this event-loop turn:
   * the calls read in one turn reach an idle worker as one batch, one task instead of one per call. Throws
   * the batcher's refusal of the whole call.
   */
  #enqueue(
    model: ServedModel, texts: readonly string[], positions: readonly number[] | undefined, counted: number, truncation: Truncation,
    deadline: number, sink: CallSink | EachSink,
  ): void {
    const code = TRUNCATIONS.indexOf(truncation);
    const count = positions?.length ?? texts.length;
    const entries = new Array<{ payload: QueuedText; tokens: number }>(count);
    for (let j = 0; j < count; j++) {
      const at = positions?.[j] ?? j;
      const text = texts[at]!;
      entries[j] = { payload: { text, truncation: code, counted: at < counted }, tokens: model.estimate.tokens(text) };
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

  /** Runs one batch (batch-runner.ts), then offers it to the shadow candidate, if any. */
  async #score(queued: QueuedText[], model: ServedModel): Promise<TextOutcome[]> {
    const { outcomes, ms } = await runBatch(queued, model, this.limits.maxBatchTokens, this.#metrics);
    const tap = this.tap;
    if (tap?.active) {
      // After this turn: the batch's answers reach their callers first. The tap then sees what still waits
      // once the texts that arrived meanwhile went to the idle workers (a pump is due anyway): load, not timing.
      const batch: LiveBatch = { texts: queued, outcomes, model: model.description, ms };
      setImmediate(() => {
        this.#queue.pump();
        tap.offer(batch, this.#queue.depth);
      });
    }
    return outcomes;
  }
}
