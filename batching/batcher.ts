// The dynamic micro-batcher: a bounded queue of tokenized texts that are cut into batches for a pool of
// workers. It knows neither HTTP nor ONNX: it holds opaque payloads with their token counts, hands batches
// to an injected runner and gives each caller back its own result, by position.
//
// Rules (each one is proven in test/unit/batcher.test.ts with a fake clock):
// - A worker that is idle takes what is waiting at once: a lone request pays no batching delay.
// - While every worker is busy, the forming batch is sealed when it reaches maxBatchSize texts or
//   maxBatchTokens padded tokens (texts × longest padded length, as Hugging Face TEI counts it), or when its
//   oldest text has waited maxWaitMs. Up to `prefetch` sealed batches are handed to the runner ahead, so a
//   worker that finishes finds its next batch without a round trip through this thread.
// - A batch is anchored on the oldest waiting text (nothing starves) and filled with texts of the nearest
//   lengths (less padding).
// - Texts whose client went away, or that can no longer be answered by their deadline (it is nearer than
//   the measured time of a batch), are dropped before inference: checked whenever the queue is looked at
//   (every submission, every finished batch, the wait timer), so no listener or timer is kept per text.
// - The queue is bounded: past maxQueue texts, or when the texts already waiting would keep it past its
//   deadline at the measured drain rate, a submission is refused at once, whole.
// - Each text's outcome goes to its submission's sink (one object per call), by position: no promise or
//   closure per text. submit()/submitMany() wrap a sink in promises for callers that want them.
import { systemClock, type Clock } from './clock.js';
import { DrainRate } from './drain-rate.js';
import { BatcherClosedError, BatcherError, DeadlineExceededError, QueueFullError, RequestAbortedError, type RejectionReason } from './errors.js';
import { Fifo } from './fifo.js';
import { LengthBuckets } from './length-buckets.js';
import {
  nonNegative, nonNegativeInteger, positiveInteger,
  type BatchInfo, type BatchRunner, type BatchSink, type BatcherObserver, type BatcherOptions, type CancelSignal, type Completed,
  type SubmitEntry, type SubmitOptions,
} from './options.js';

export type {
  BatchInfo, BatchRunner, BatchSink, BatcherObserver, BatcherOptions, CancelSignal, Completed, SubmitEntry, SubmitOptions,
} from './options.js';

type ItemState = 'waiting' | 'running' | 'done';

/** When a dispatched batch started running in a worker; undefined while it waits for one. */
interface RunTiming { startedAt: number | undefined; finished: boolean }

interface Item<P, R> {
  payload: P;
  paddedLength: number;
  tokens: number;
  group: unknown;
  enqueuedAt: number;
  deadline: number;
  signal: CancelSignal | undefined;
  state: ItemState;
  sink: BatchSink<R>;
  /** This text's position in its submission, as the sink knows it. */
  index: number;
}

export class MicroBatcher<P, R> {
  readonly maxBatchSize: number;
  readonly maxBatchTokens: number;
  readonly maxWaitMs: number;
  readonly maxQueue: number;
  readonly concurrency: number;
  readonly prefetch: number;
  readonly lengthMultiple: number;
  readonly saturationRatio: number;

  readonly #runner: BatchRunner<P, R>;
  readonly #padTo: (tokens: number) => number;
  readonly #clock: Clock;
  readonly #observer: BatcherObserver;
  /** Every waiting item in arrival order (entries that left by other ways are skipped lazily). */
  readonly #arrivals = new Fifo<Item<P, R>>();
  /** Waiting items by padded length, each bucket in arrival order. */
  readonly #buckets: LengthBuckets<Item<P, R>>;
  #waiting = 0;
  #inFlight = 0;
  #timer: unknown = undefined;
  #timerAt = Infinity;
  #closed = false;
  #idleWaiters: (() => void)[] = [];
  readonly #drainRate = new DrainRate();
  /**
   * Batches handed to the runner ahead of a free worker (prefetch), oldest first: each starts when a running
   * batch ends. Their run is timed from then, not from their dispatch, so that the drain rate measures the
   * workers and not the wait at their door.
   */
  readonly #waitingForWorker = new Fifo<RunTiming>();

  constructor(options: BatcherOptions<P, R>) {
    this.maxBatchSize = positiveInteger('maxBatchSize', options.maxBatchSize);
    this.maxBatchTokens = positiveInteger('maxBatchTokens', options.maxBatchTokens);
    this.maxWaitMs = nonNegative('maxWaitMs', options.maxWaitMs);
    this.maxQueue = positiveInteger('maxQueue', options.maxQueue);
    this.concurrency = positiveInteger('concurrency', options.concurrency);
    this.prefetch = nonNegativeInteger('prefetch', options.prefetch ?? 1);
    this.lengthMultiple = positiveInteger('lengthMultiple', options.lengthMultiple ?? 8);
    this.saturationRatio = options.saturationRatio ?? 0.9;
    if (!(this.saturationRatio > 0 && this.saturationRatio <= 1)) throw new RangeError('saturationRatio must be in (0, 1]');
    if (typeof options.runner !== 'function') throw new TypeError('runner must be a function');
    this.#runner = options.runner;
    const multiple = this.lengthMultiple;
    this.#padTo = options.padTo ?? ((tokens) => Math.ceil(tokens / multiple) * multiple);
    this.#buckets = new LengthBuckets(multiple, (item) => item.state === 'waiting');
    this.#clock = options.clock ?? systemClock;
    this.#observer = options.observer ?? {};
  }

  /** Texts waiting to be batched. */
  get depth(): number {
    return this.#waiting;
  }

  /** Batches handed to the runner and not yet finished. */
  get inFlight(): number {
    return this.#inFlight;
  }

  get saturated(): boolean {
    return this.#waiting >= this.maxQueue * this.saturationRatio;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** One text, settled through a promise. */
  submit(entry: SubmitEntry<P>, options: SubmitOptions = {}): Promise<Completed<R>> {
    return this.submitMany([entry], options)[0]!;
  }

  /** submitInto() with a promise per text; a refusal rejects every one of them. */
  submitMany(entries: SubmitEntry<P>[], options: SubmitOptions = {}): Promise<Completed<R>>[] {
    const settlers: { resolve(completed: Completed<R>): void; reject(error: Error): void }[] = [];
    const promises = entries.map(() => new Promise<Completed<R>>((resolve, reject) => { settlers.push({ resolve, reject }); }));
    try {
      this.submitInto(entries, options, {
        resolve: (index, completed) => settlers[index]!.resolve(completed),
        reject: (index, error) => settlers[index]!.reject(error),
      });
    } catch (error) {
      // A refusal is every text's outcome; anything else is the caller's mistake (a bad token count).
      if (!(error instanceof BatcherError)) throw error;
      for (const settler of settlers) settler.reject(error);
    }
    return promises;
  }

  /**
   * Queues several texts that share a deadline and a signal (one client call) and cuts the batches the rules
   * allow now. They are admitted together or refused together (this throws the refusal: QueueFullError,
   * BatcherClosedError, RequestAbortedError), and each may land in a different batch; `sink` gets each
   * text's outcome by its position in `entries`.
   */
  submitInto(entries: SubmitEntry<P>[], options: SubmitOptions, sink: BatchSink<R>): void {
    this.enqueue(entries, options, sink);
    this.#pump();
  }

  /**
   * As submitInto, but cuts no batch now: the caller calls pump() once it has queued everything that
   * arrived together (e.g. once per event-loop turn), so an idle worker gets them in one task rather than
   * one task per call. Anything else that looks at the queue (a submission, a finished batch) also pumps.
   */
  enqueue(entries: SubmitEntry<P>[], options: SubmitOptions, sink: BatchSink<R>): void {
    if (this.#closed) {
      this.#notifyReject('closed', entries.length);
      throw new BatcherClosedError();
    }
    if (options.signal?.aborted) {
      this.#notifyReject(options.signal.dropReason ?? 'aborted', entries.length);
      throw new RequestAbortedError();
    }
    if (this.#waiting + entries.length > this.maxQueue) {
      this.#notifyReject('queue_full', entries.length);
      throw new QueueFullError(this.retryAfterSeconds(), this.maxQueue);
    }
    for (const entry of entries) {
      if (!(Number.isInteger(entry.tokens) && entry.tokens > 0)) throw new RangeError(`tokens must be a positive integer, got ${entry.tokens}`);
    }
    const now = this.#clock.now();
    const deadline = options.deadline ?? Infinity;
    // Refused now, with Retry-After, rather than accepted to wait out a deadline that the texts already
    // queued make impossible (a heavy model under overload). A call that finds the queue empty is taken:
    // retrying would not make it fit, and its texts that cannot finish are dropped with 504 at dispatch.
    if (this.#waiting > 0 && now + this.#drainRate.msToFinish(this.#waiting + entries.length) > deadline) {
      this.#notifyReject('queue_full', entries.length);
      throw new QueueFullError(this.retryAfterSeconds(), this.maxQueue, `the ${this.#waiting} texts ahead would keep these past their deadline`);
    }
    for (let index = 0; index < entries.length; index++) {
      const entry = entries[index]!;
      this.#enqueue({
        payload: entry.payload,
        tokens: entry.tokens,
        paddedLength: this.#padTo(entry.tokens),
        group: options.group,
        enqueuedAt: now,
        deadline,
        signal: options.signal,
        state: 'waiting',
        sink,
        index,
      });
    }
  }

  /** Cuts the batches that the rules allow now (after enqueue). */
  pump(): void {
    this.#pump();
  }

  /**
   * Seconds after which a refused client may expect room: the queue's drain time at the measured rate, with
   * `ahead` more texts still on their way to it (an earlier stage's queue).
   */
  retryAfterSeconds(ahead = 0): number {
    return this.#drainRate.secondsToDrain(this.#waiting + ahead);
  }

  /**
   * Stops taking texts, runs everything already accepted without waiting for batches to fill, and resolves
   * once the last batch has finished. Nothing accepted is lost.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#pump();
    await this.idle();
  }

  /** Resolves when nothing is waiting or running. */
  idle(): Promise<void> {
    if (this.#waiting === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #enqueue(item: Item<P, R>): void {
    this.#arrivals.push(item);
    this.#buckets.add(item);
    this.#waiting++;
  }

  /** Settles waiting items without running them; returns how many were still waiting. */
  #settleWaiting(items: Item<P, R>[], error: Error, reason: RejectionReason): number {
    let dropped = 0;
    for (const item of items) {
      if (item.state !== 'waiting') continue;
      item.state = 'done';
      this.#waiting--;
      dropped++;
      item.sink.reject(item.index, error);
    }
    if (dropped > 0) this.#notifyReject(reason, dropped);
    return dropped;
  }

  /** The oldest waiting item, after dropping every expired or abandoned one met at the head. */
  #oldest(now: number): Item<P, R> | undefined {
    for (;;) {
      const head = this.#arrivals.peek();
      if (!head) return undefined;
      if (head.state !== 'waiting') {
        this.#arrivals.shift();
        continue;
      }
      if (this.#latestStart(head) <= now) {
        const bound = head.deadline > now ? this.#drainRate.batchBoundMs : undefined;
        this.#settleWaiting([head], new DeadlineExceededError(now - head.enqueuedAt, bound), 'deadline');
        continue;
      }
      if (head.signal?.aborted) {
        this.#settleWaiting([head], new RequestAbortedError(), head.signal.dropReason ?? 'aborted');
        continue;
      }
      return head;
    }
  }

  /**
   * The last moment a text can start and still be answered by its deadline: its deadline less the longest
   * a batch may take, as measured (the deadline itself before any batch has finished).
   */
  #latestStart(item: Item<P, R>): number {
    return item.deadline - this.#drainRate.batchBoundMs;
  }

  #pump(): void {
    const now = this.#clock.now();
    for (;;) {
      const oldest = this.#oldest(now);
      if (!oldest) {
        this.#schedule(Infinity);
        this.#notifyIdle();
        return;
      }
      if (this.#inFlight >= this.concurrency + this.prefetch) {
        // Every slot is taken: the next batch to finish pumps again; only a deadline can come first.
        this.#schedule(this.#latestStart(oldest));
        return;
      }
      const workerIdle = this.#inFlight < this.concurrency;
      const selection = this.#select(oldest, now);
      const sealNow = workerIdle || this.#closed || selection.full || now - oldest.enqueuedAt >= this.maxWaitMs;
      if (!sealNow) {
        this.#schedule(Math.min(this.#latestStart(oldest), oldest.enqueuedAt + this.maxWaitMs));
        return;
      }
      this.#dispatch(selection.items, now);
    }
  }

  /**
   * The batch that would be cut now: the oldest text, then waiting texts of the same group by nearness of
   * length (same length first, then one step shorter, one step longer, …), within both caps. `full` says a
   * cap was reached, which seals the batch even while every worker is busy.
   */
  #select(oldest: Item<P, R>, now: number): { items: Item<P, R>[]; full: boolean } {
    const items = [oldest];
    let longest = oldest.paddedLength;
    let full = false;
    for (const bucket of this.#buckets.nearest(oldest.paddedLength)) {
      for (const candidate of bucket) {
        if (candidate === oldest || candidate.state !== 'waiting' || candidate.group !== oldest.group) continue;
        if (candidate.signal?.aborted) {
          this.#settleWaiting([candidate], new RequestAbortedError(), candidate.signal.dropReason ?? 'aborted');
          continue;
        }
        if (this.#latestStart(candidate) <= now) continue; // dropped when it reaches the head of the arrivals
        if (items.length >= this.maxBatchSize) { full = true; break; }
        const nextLongest = Math.max(longest, candidate.paddedLength);
        if (nextLongest * (items.length + 1) > this.maxBatchTokens) {
          // A longer text does not fit; shorter ones in nearer buckets may still.
          if (candidate.paddedLength <= longest) full = true;
          break;
        }
        items.push(candidate);
        longest = nextLongest;
      }
      if (full) break;
    }
    if (items.length >= this.maxBatchSize || longest * (items.length + 1) > this.maxBatchTokens) full = true;
    return { items, full };
  }

  #dispatch(items: Item<P, R>[], now: number): void {
    let longest = 0;
    let realTokens = 0;
    for (const item of items) {
      item.state = 'running';
      longest = Math.max(longest, item.paddedLength);
      realTokens += item.tokens;
    }
    this.#waiting -= items.length;
    const timing: RunTiming = { startedAt: this.#inFlight < this.concurrency ? now : undefined, finished: false };
    if (timing.startedAt === undefined) this.#waitingForWorker.push(timing);
    this.#inFlight++;
    const size = items.length;
    if (this.#observer.onBatchStart !== undefined) {
      const info: BatchInfo = {
        size,
        paddedLength: longest,
        paddedTokens: longest * size,
        realTokens,
        queueWaitsMs: items.map((item) => now - item.enqueuedAt),
      };
      this.#notify(() => this.#observer.onBatchStart?.(info));
    }
    let results: Promise<R[]>;
    try {
      results = this.#runner(items.map((item) => item.payload), items[0]!.group);
    } catch (error) {
      results = Promise.reject(error);
    }
    // One handler for each outcome (not then().catch()), so each batch is finished exactly once.
    results.then(
      (values) => {
        if (!Array.isArray(values) || values.length !== items.length) {
          this.#fail(items, new Error(`the batch runner returned ${Array.isArray(values) ? values.length : typeof values} results for ${items.length} texts`));
          this.#finish(size, timing, true);
          return;
        }
        const runMs = this.#clock.now() - now;
        for (let index = 0; index < items.length; index++) {
          const item = items[index]!;
          item.state = 'done';
          item.sink.resolve(item.index, { value: values[index] as R, queueMs: now - item.enqueuedAt, runMs });
        }
        this.#finish(size, timing, false);
      },
      (error: unknown) => {
        this.#fail(items, error instanceof Error ? error : new Error(String(error)));
        this.#finish(size, timing, true);
      },
    );
  }

  #fail(items: Item<P, R>[], error: Error): void {
    for (const item of items) {
      item.state = 'done';
      item.sink.reject(item.index, error);
    }
  }

  #finish(size: number, timing: RunTiming, failed: boolean): void {
    const now = this.#clock.now();
    timing.finished = true;
    this.#inFlight--;
    if (!failed && timing.startedAt !== undefined) this.#drainRate.observe(size, this.concurrency, now - timing.startedAt);
    // The worker this batch leaves takes the oldest batch handed ahead.
    for (let next = this.#waitingForWorker.shift(); next !== undefined; next = this.#waitingForWorker.shift()) {
      if (next.finished) continue;
      next.startedAt = now;
      break;
    }
    this.#pump();
  }

  #notifyReject(reason: RejectionReason, texts: number): void {
    this.#notify(() => this.#observer.onReject?.(reason, texts));
  }

  /** Observers feed metrics; one that throws must not leave a batch half dispatched or counted twice. */
  #notify(event: () => void): void {
    try {
      event();
    } catch {
      // Ignored on purpose: metrics are not worth a lost request.
    }
  }

  #schedule(at: number): void {
    if (at === this.#timerAt) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = at;
    if (at === Infinity) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#pump();
    }, Math.max(0, at - this.#clock.now()));
  }

  #notifyIdle(): void {
    if (this.#waiting !== 0 || this.#inFlight !== 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
