// The dynamic micro-batcher: a bounded queue of tokenized texts that are cut into batches for a pool of
// workers. It knows neither HTTP nor ONNX: it holds opaque payloads with their token counts, hands batches
// to an injected runner and gives each caller back its own result, by position.
//
// Rules (each one is proven in test/batcher.test.ts with a fake clock):
// - A worker that is idle takes what is waiting at once: a lone request pays no batching delay.
// - While every worker is busy, the forming batch is sealed when it reaches maxBatchSize texts or
//   maxBatchTokens padded tokens (texts × longest padded length, as Hugging Face TEI counts it), or when its
//   oldest text has waited maxWaitMs. Up to `prefetch` sealed batches are handed to the runner ahead, so a
//   worker that finishes finds its next batch without a round trip through this thread.
// - A batch is anchored on the oldest waiting text (nothing starves) and filled with texts of the nearest
//   lengths (less padding).
// - Texts whose client went away, or whose deadline passed, are dropped before inference: checked whenever
//   the queue is looked at (every submission, every finished batch, the wait timer), so no listener or
//   timer is kept per text.
// - The queue is bounded: past maxQueue texts a submission is refused at once, whole.
import { type Clock, systemClock } from './clock.js';
import {
  BatcherClosedError,
  DeadlineExceededError,
  QueueFullError,
  RequestAbortedError,
  type RejectionReason,
} from './errors.js';
import { Fifo } from './fifo.js';

/** Runs one batch; must return one result per payload, in the same order. */
export type BatchRunner<P, R> = (payloads: P[]) => Promise<R[]>;

export interface BatchInfo {
  size: number;
  /** Longest sequence of the batch after padding to the length multiple. */
  paddedLength: number;
  /** size × paddedLength: what the model computes. */
  paddedTokens: number;
  /** Sum of the texts' own token counts: paddedTokens minus this is padding. */
  realTokens: number;
  /** How long each text waited in the queue, ms. */
  queueWaitsMs: number[];
}

export interface BatcherObserver {
  onBatchStart?(info: BatchInfo): void;
  onBatchEnd?(info: BatchInfo, durationMs: number, failed: boolean): void;
  onReject?(reason: RejectionReason, texts: number): void;
}

export interface BatcherOptions<P, R> {
  runner: BatchRunner<P, R>;
  maxBatchSize: number;
  maxBatchTokens: number;
  maxWaitMs: number;
  maxQueue: number;
  /** Batches that run at once: one per worker. */
  concurrency: number;
  /** Sealed batches handed to the runner beyond `concurrency` while every worker is busy. */
  prefetch?: number;
  /** Lengths are padded up to a multiple of this before they are counted, as the runner pads them. */
  lengthMultiple?: number;
  /** Fraction of maxQueue from which `saturated` reports true (readiness turns 503 before the queue sheds). */
  saturationRatio?: number;
  clock?: Clock;
  observer?: BatcherObserver;
}

export interface SubmitEntry<P> {
  payload: P;
  /** Token count of the text, special tokens included. */
  tokens: number;
}

export interface SubmitOptions {
  /** Absolute time on the batcher's clock after which the text is dropped rather than run. */
  deadline?: number;
  /** Once `aborted` reads true, the texts still waiting are dropped (an AbortSignal, or any such view). */
  signal?: { readonly aborted: boolean };
  /** Only texts with the same group share a batch (e.g. the model generation they were tokenized for). */
  group?: unknown;
}

export interface Completed<R> {
  value: R;
  /** Time from submission to the start of the batch that ran it, ms. */
  queueMs: number;
  /** Time the batch took in the runner, ms. */
  runMs: number;
  batchSize: number;
}

type ItemState = 'waiting' | 'running' | 'done';

interface Item<P, R> {
  payload: P;
  paddedLength: number;
  tokens: number;
  group: unknown;
  enqueuedAt: number;
  deadline: number;
  signal: { readonly aborted: boolean } | undefined;
  state: ItemState;
  resolve(completed: Completed<R>): void;
  reject(error: Error): void;
}

/** Smoothing of the throughput estimate behind Retry-After. */
const THROUGHPUT_SMOOTHING = 0.2;

export class MicroBatcher<P, R> {
  readonly maxBatchSize: number;
  readonly maxBatchTokens: number;
  readonly maxWaitMs: number;
  readonly maxQueue: number;
  readonly concurrency: number;
  readonly prefetch: number;
  readonly lengthMultiple: number;
  readonly saturationRatio: number;

  #runner: BatchRunner<P, R>;
  readonly #clock: Clock;
  readonly #observer: BatcherObserver;
  /** Every waiting item in arrival order (entries that left by other ways are skipped lazily). */
  readonly #arrivals = new Fifo<Item<P, R>>();
  /** Waiting items by padded length / lengthMultiple, each in arrival order. */
  readonly #buckets = new Map<number, Fifo<Item<P, R>>>();
  #waiting = 0;
  #inFlight = 0;
  #timer: unknown = undefined;
  #timerAt = Infinity;
  #closed = false;
  #idleWaiters: (() => void)[] = [];
  /** Texts per second the runner completes, smoothed; 0 until the first batch ends. */
  #throughput = 0;

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

  /** Batches cut after this call go to `runner`; batches already running finish on the old one. */
  setRunner(runner: BatchRunner<P, R>): void {
    this.#runner = runner;
  }

  submit(entry: SubmitEntry<P>, options: SubmitOptions = {}): Promise<Completed<R>> {
    return this.submitMany([entry], options)[0]!;
  }

  /**
   * Queues several texts that share a deadline and a signal (one client call). They are admitted together
   * or refused together, and each may land in a different batch.
   */
  submitMany(entries: SubmitEntry<P>[], options: SubmitOptions = {}): Promise<Completed<R>>[] {
    if (this.#closed) {
      this.#observer.onReject?.('closed', entries.length);
      return entries.map(() => Promise.reject(new BatcherClosedError()));
    }
    if (options.signal?.aborted) {
      this.#observer.onReject?.('aborted', entries.length);
      return entries.map(() => Promise.reject(new RequestAbortedError()));
    }
    if (this.#waiting + entries.length > this.maxQueue) {
      this.#observer.onReject?.('queue_full', entries.length);
      const error = new QueueFullError(this.retryAfterSeconds(), this.maxQueue);
      return entries.map(() => Promise.reject(error));
    }
    for (const entry of entries) {
      if (!(Number.isInteger(entry.tokens) && entry.tokens > 0)) throw new RangeError(`tokens must be a positive integer, got ${entry.tokens}`);
    }
    const now = this.#clock.now();
    const items: Item<P, R>[] = [];
    const promises = entries.map((entry) => new Promise<Completed<R>>((resolve, reject) => {
      items.push({
        payload: entry.payload,
        tokens: entry.tokens,
        paddedLength: Math.ceil(entry.tokens / this.lengthMultiple) * this.lengthMultiple,
        group: options.group,
        enqueuedAt: now,
        deadline: options.deadline ?? Infinity,
        signal: options.signal,
        state: 'waiting',
        resolve,
        reject,
      });
    }));
    for (const item of items) this.#enqueue(item);
    this.#pump();
    return promises;
  }

  /** Seconds after which a refused client may expect room: the queue's drain time at the measured rate. */
  retryAfterSeconds(): number {
    if (this.#throughput <= 0) return 1;
    return Math.max(1, Math.ceil(this.#waiting / this.#throughput));
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
    const key = item.paddedLength / this.lengthMultiple;
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new Fifo();
      this.#buckets.set(key, bucket);
    }
    bucket.push(item);
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
      item.reject(error);
    }
    if (dropped > 0) this.#observer.onReject?.(reason, dropped);
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
      if (head.deadline <= now) {
        this.#settleWaiting([head], new DeadlineExceededError(now - head.enqueuedAt), 'deadline');
        continue;
      }
      if (head.signal?.aborted) {
        this.#settleWaiting([head], new RequestAbortedError(), 'aborted');
        continue;
      }
      return head;
    }
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
        this.#schedule(oldest.deadline);
        return;
      }
      const workerIdle = this.#inFlight < this.concurrency;
      const selection = this.#select(oldest, now);
      const sealNow = workerIdle || this.#closed || selection.full || now - oldest.enqueuedAt >= this.maxWaitMs;
      if (!sealNow) {
        this.#schedule(Math.min(oldest.deadline, oldest.enqueuedAt + this.maxWaitMs));
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
    const anchorKey = oldest.paddedLength / this.lengthMultiple;
    const maxKey = Math.max(...this.#buckets.keys());
    for (let distance = 0; !full && (anchorKey - distance >= 1 || anchorKey + distance <= maxKey); distance++) {
      const keys = distance === 0 ? [anchorKey] : [anchorKey - distance, anchorKey + distance];
      for (const key of keys) {
        const bucket = this.#buckets.get(key);
        if (!bucket) continue;
        this.#trimBucket(bucket, key);
        for (const candidate of bucket) {
          if (candidate === oldest || candidate.state !== 'waiting' || candidate.group !== oldest.group) continue;
          if (candidate.signal?.aborted) {
            this.#settleWaiting([candidate], new RequestAbortedError(), 'aborted');
            continue;
          }
          if (candidate.deadline <= now) continue; // dropped when it reaches the head of the arrivals
          if (items.length >= this.maxBatchSize) { full = true; break; }
          const nextLongest = Math.max(longest, candidate.paddedLength);
          if (nextLongest * (items.length + 1) > this.maxBatchTokens) {
            // A longer text does not fit; shorter ones in nearer buckets may still. Same bucket: all equal.
            if (candidate.paddedLength <= longest) full = true;
            break;
          }
          items.push(candidate);
          longest = nextLongest;
        }
        if (full) break;
      }
    }
    if (items.length >= this.maxBatchSize || longest * (items.length + 1) > this.maxBatchTokens) full = true;
    return { items, full };
  }

  /** Removes settled items from the front of a bucket, and the bucket itself once empty. */
  #trimBucket(bucket: Fifo<Item<P, R>>, key: number): void {
    while (bucket.length > 0 && bucket.peek()!.state !== 'waiting') bucket.shift();
    if (bucket.length === 0) this.#buckets.delete(key);
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
    this.#inFlight++;
    const info: BatchInfo = {
      size: items.length,
      paddedLength: longest,
      paddedTokens: longest * items.length,
      realTokens,
      queueWaitsMs: items.map((item) => now - item.enqueuedAt),
    };
    this.#observer.onBatchStart?.(info);
    const runner = this.#runner;
    let results: Promise<R[]>;
    try {
      results = runner(items.map((item) => item.payload));
    } catch (error) {
      results = Promise.reject(error);
    }
    results.then(
      (values) => {
        if (!Array.isArray(values) || values.length !== items.length) {
          throw new Error(`the batch runner returned ${Array.isArray(values) ? values.length : typeof values} results for ${items.length} texts`);
        }
        const runMs = this.#clock.now() - now;
        for (let index = 0; index < items.length; index++) {
          const item = items[index]!;
          item.state = 'done';
          item.resolve({ value: values[index] as R, queueMs: now - item.enqueuedAt, runMs, batchSize: items.length });
        }
        this.#finish(info, runMs, false);
      },
    ).catch((error: unknown) => {
      // Reached only when the runner failed or broke its contract: nothing of this batch was resolved.
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const item of items) {
        item.state = 'done';
        item.reject(failure);
      }
      this.#finish(info, this.#clock.now() - now, true);
    });
  }

  #finish(info: BatchInfo, runMs: number, failed: boolean): void {
    this.#inFlight--;
    if (!failed && runMs > 0) {
      const rate = (info.size * this.concurrency * 1000) / runMs;
      this.#throughput = this.#throughput === 0 ? rate : this.#throughput + THROUGHPUT_SMOOTHING * (rate - this.#throughput);
    }
    this.#observer.onBatchEnd?.(info, runMs, failed);
    this.#pump();
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

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  return value;
}
