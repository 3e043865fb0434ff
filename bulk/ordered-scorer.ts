// Many texts through the one predictor path, answers in input order, in bounded memory. Shared by
// POST /api/predict/stream and the command line's in-process mode, so both stream the same way:
//
// - At most `window` texts of this stream are in the predictor at once (submitted or waiting to be): the
//   input is not read further until answers come back. That bounds memory whatever the input's size, and
//   it is the stream's share of the queue, far below MAX_QUEUE, so interactive callers keep their room
//   and wait behind at most one window of bulk texts (the batcher serves the oldest text first).
// - Texts go in chunks of `chunk` (one predictEach call, one deadline from predictor.deadline() per
//   chunk, as a batch request would get); a partial chunk goes once the input pauses for `flushMs`, so a
//   slow producer is answered line by line.
// - Each text settles on its own (the predictor calls back per text, and checks each text as it would a
//   single call's); answers are emitted in order as soon as the oldest one is known.
// - A text refused with QUEUE_FULL (interactive traffic filled the queue) waits and is submitted again
//   until its deadline: a bulk job backs off instead of failing its lines. One still refused at its
//   deadline gets DEADLINE_EXCEEDED, like a text that waited it out in the queue.
// - When the consumer stops (client gone, ?on_error=stop, Ctrl-C) the texts still queued are dropped at
//   once: the signal every submission carries reads the consumer's stop as well as the caller's.
import { DeadlineExceededError } from '../batching/errors.js';
import { Fifo } from '../batching/fifo.js';
import type { ModelDescription } from '../core/model.js';
import type { Predictor, TextResult, WordWeight } from '../core/predictor.js';
import { failureOf } from './failures.js';
import type { LineFailure } from './stream-input.js';

/** A text to score (and to explain, when `explain`), or a line already failed. */
export type ScoreInput<M> = { meta: M; text: string; explain?: boolean } | { meta: M; error: LineFailure };
/** A text's result with the model that answered it (a reload may swap the model mid-stream). */
export type ScoreOutput<M> =
  | { meta: M; result: TextResult; model: ModelDescription; explanation?: readonly WordWeight[] | undefined; error?: undefined }
  | { meta: M; error: LineFailure; result?: undefined };

export interface OrderedScoringOptions {
  /** Most texts of this stream in the predictor at once. */
  window: number;
  /** Texts per predictEach call. */
  chunk: number;
  /** A partial chunk is submitted once the input has paused this long, ms. */
  flushMs?: number;
  /** Reads true once the caller is gone (the client's socket, Ctrl-C). */
  signal?: { readonly aborted: boolean };
  /** Longest pause before a text refused with QUEUE_FULL is submitted again, ms. */
  maxRetryDelayMs?: number;
  /**
   * Whether the shared queue has room for more of this stream's texts now (default: always). The route
   * gives "fewer than two chunks of anyone's texts are waiting": the stream then only tops up what keeps
   * the workers busy, and single calls that arrive wait behind little of it.
   */
  queueRoom?: () => boolean;
}

export const DEFAULT_WINDOW = 256;
export const DEFAULT_CHUNK = 32;

interface Slot<M> {
  meta: M;
  out: ScoreOutput<M> | undefined;
}

interface Pending<M> {
  slot: Slot<M>;
  text: string;
  explain: boolean;
}

type Scorer = Pick<Predictor, 'predictEach' | 'deadline'>;

/** Yields the answers in input order, in runs: every answer known at that moment, so that a writer makes one write per run. */
export async function* scoreInOrder<M>(predictor: Scorer, inputs: AsyncIterable<ScoreInput<M>>, options: OrderedScoringOptions): AsyncGenerator<ScoreOutput<M>[]> {
  const { window, chunk } = options;
  if (!(window >= chunk && chunk >= 1)) throw new RangeError('scoreInOrder needs window ≥ chunk ≥ 1');
  const flushMs = options.flushMs ?? 2;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 250;
  const queueRoom = options.queueRoom ?? (() => true);
  /** While the queue has no room, how often it is looked at again, ms. */
  const pollMs = 2;
  let stopped = false;
  const signal = { get aborted() { return stopped || options.signal?.aborted === true; } };

  const slots = new Fifo<Slot<M>>();
  let unsettled = 0;
  let pending: Pending<M>[] = [];
  let flushTimer: Promise<'flush'> | undefined;
  let wake: (() => void) | undefined;

  const settle = (slot: Slot<M>, out: ScoreOutput<M>) => {
    slot.out = out;
    unsettled--;
    wake?.();
  };

  const submit = (entries: Pending<M>[], deadline = predictor.deadline(), since = performance.now()) => {
    let model: ModelDescription;
    const onText = (i: number, outcome: TextResult | Error, explanation?: readonly WordWeight[]) => {
      const entry = entries[i]!;
      if (!(outcome instanceof Error)) {
        settle(entry.slot, { meta: entry.slot.meta, result: outcome, model, explanation });
        return;
      }
      const code = (outcome as { code?: unknown }).code;
      const now = performance.now();
      if (code === 'QUEUE_FULL' && !signal.aborted) {
        if (now < deadline) {
          const delay = Math.min(maxRetryDelayMs, deadline - now, 10 + Math.random() * maxRetryDelayMs);
          setTimeout(() => submit([entry], deadline, since), delay);
        } else {
          // Refused until its deadline: the line waited it out, as one dropped from the queue does.
          settle(entry.slot, { meta: entry.slot.meta, error: failureOf(new DeadlineExceededError(now - since)) });
        }
        return;
      }
      settle(entry.slot, { meta: entry.slot.meta, error: failureOf(outcome) });
    };
    // The model that answers these texts (a reload may swap the model mid-stream); outcomes come only after.
    model = predictor.predictEach(entries.map((entry) => entry.text), { deadline, signal, name: () => 'text', explain: entries[0]?.explain === true }, onText);
  };

  const flush = () => {
    const entries = pending;
    pending = [];
    flushTimer = undefined;
    // A call explains all its texts or none: the texts to explain go in a call of their own.
    const explained = entries.filter((entry) => entry.explain);
    const plain = explained.length === 0 ? entries : entries.filter((entry) => !entry.explain);
    if (plain.length > 0) submit(plain);
    if (explained.length > 0) submit(explained);
  };

  const iterator = inputs[Symbol.asyncIterator]();
  type Woke = { input: IteratorResult<ScoreInput<M>> } | 'flush' | 'settled';
  let nextInput: Promise<Woke> | undefined;
  let inputDone = false;
  try {
    for (;;) {
      if (slots.peek()?.out !== undefined) {
        const run: ScoreOutput<M>[] = [];
        while (slots.peek()?.out !== undefined) run.push(slots.shift()!.out!);
        yield run;
        // More may have settled while the consumer wrote: look again before waiting.
        continue;
      }
      if (inputDone && slots.length === 0) return;
      const room = unsettled < window && (unsettled === pending.length ? true : queueRoom());
      if (!inputDone && nextInput === undefined && room) nextInput = iterator.next().then((input) => ({ input }));
      if (inputDone || (nextInput === undefined && pending.length > 0)) flush();
      const waits: Promise<Woke>[] = [];
      if (nextInput !== undefined) waits.push(nextInput);
      if (unsettled > pending.length) waits.push(new Promise<Woke>((resolve) => { wake = () => resolve('settled'); }));
      if (!inputDone && nextInput === undefined && unsettled < window) {
        // Held back only by the shared queue: look again shortly (a settlement may come first).
        waits.push(new Promise<Woke>((resolve) => setTimeout(() => resolve('settled'), pollMs)));
      }
      if (pending.length > 0 && nextInput !== undefined) {
        flushTimer ??= new Promise((resolve) => setTimeout(() => resolve('flush'), flushMs));
        waits.push(flushTimer);
      }
      const woke = await Promise.race(waits);
      wake = undefined;
      if (woke === 'settled') continue;
      if (woke === 'flush') {
        // Only the current chunk's timer flushes: an older timer's promise is no longer raced.
        flush();
        continue;
      }
      nextInput = undefined;
      if (woke.input.done) {
        inputDone = true;
        continue;
      }
      const item = woke.input.value;
      const slot: Slot<M> = { meta: item.meta, out: undefined };
      slots.push(slot);
      if ('error' in item) {
        slot.out = { meta: item.meta, error: item.error };
        continue;
      }
      unsettled++;
      pending.push({ slot, text: item.text, explain: item.explain === true });
      if (pending.length >= chunk) flush();
    }
  } finally {
    // Stopped early: what this stream still has queued leaves the queue (the batcher reads `signal`).
    stopped = true;
    nextInput?.catch(() => undefined);
    if (!inputDone) void iterator.return?.()?.catch?.(() => undefined);
  }
}
