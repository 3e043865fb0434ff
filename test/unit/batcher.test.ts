// Unit tests of the micro-batcher: a fake clock and a fake runner, so every flush rule is checked exactly.
import t from 'tap';
import FakeTimers from '@sinonjs/fake-timers';
import { MicroBatcher, type BatcherOptions, type BatchInfo } from '../../batching/batcher.js';
import type { Clock } from '../../batching/clock.js';

interface Payload { id: number; tokens: number }

/** A runner whose batches finish only when the test says so; it records every batch it received. */
function controlledRunner() {
  const batches: { payloads: Payload[]; finish(): void; fail(error: Error): void }[] = [];
  const runner = (payloads: Payload[]) => new Promise<string[]>((resolve, reject) => {
    batches.push({ payloads, finish: () => resolve(payloads.map((p) => `result-${p.id}`)), fail: reject });
  });
  return { batches, runner };
}

function setup(options: Partial<BatcherOptions<Payload, string>> = {}) {
  const fake = FakeTimers.createClock(0);
  const clock: Clock = {
    now: () => fake.now,
    setTimeout: (callback, ms) => fake.setTimeout(callback, ms),
    clearTimeout: (handle) => fake.clearTimeout(handle as FakeTimers.TimerId),
  };
  const { batches, runner } = controlledRunner();
  const started: BatchInfo[] = [];
  const rejected: [string, number][] = [];
  const batcher = new MicroBatcher<Payload, string>({
    runner,
    maxBatchSize: 4,
    maxBatchTokens: 1024,
    maxWaitMs: 5,
    maxQueue: 100,
    concurrency: 1,
    prefetch: 1,
    clock,
    observer: {
      onBatchStart: (info) => started.push(info),
      onReject: (reason, texts) => rejected.push([reason, texts]),
    },
    ...options,
  });
  let nextId = 0;
  const submit = (tokens = 10, extra: Parameters<typeof batcher.submit>[1] = {}) => {
    const payload = { id: nextId++, tokens };
    return batcher.submit({ payload, tokens }, extra);
  };
  /** Runs one text as a batch that takes `ms`, so that the batcher has measured a batch's time and rate. */
  const timeOneBatch = async (ms: number) => {
    const first = submit();
    fake.tick(ms);
    batches.at(-1)!.finish();
    await first;
  };
  return { fake, batcher, batches, started, rejected, submit, timeOneBatch };
}

/** Lets promise callbacks run (fake timers do not touch microtasks). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

t.test('a lone request goes at once to an idle worker, with no batching delay', async (t) => {
  const { batches, submit, started } = setup({ maxWaitMs: 50 });
  const result = submit();
  t.equal(batches.length, 1, 'dispatched synchronously');
  t.same(started[0]!.queueWaitsMs, [0], 'waited 0 ms');
  batches[0]!.finish();
  const completed = await result;
  t.equal(completed.value, 'result-0');
  t.equal(completed.queueMs, 0);
});

/** A sink that records each text's outcome of one submission by its position. */
function recordingSink() {
  const outcomes: (string | Error)[] = [];
  return {
    outcomes,
    sink: {
      resolve: (index: number, completed: { value: string }) => { outcomes[index] = completed.value; },
      reject: (index: number, error: Error) => { outcomes[index] = error; },
    },
  };
}

t.test('enqueue cuts no batch until pump(): calls that arrived together reach an idle worker as one batch', async (t) => {
  const { batcher, batches, fake } = setup({ maxBatchSize: 8, maxWaitMs: 50 });
  const calls = [[0, 1], [2], [3, 4, 5]].map((ids) => {
    const call = recordingSink();
    batcher.enqueue(ids.map((id) => ({ payload: { id, tokens: 10 }, tokens: 10 })), {}, call.sink);
    return call;
  });
  fake.tick(100);
  t.equal(batches.length, 0, 'nothing dispatched before pump(), even past maxWaitMs (no timer was set)');
  t.equal(batcher.depth, 6);
  batcher.pump();
  t.equal(batches.length, 1, 'one batch for the three calls');
  t.same(batches[0]!.payloads.map((p) => p.id), [0, 1, 2, 3, 4, 5]);
  batches[0]!.finish();
  await settle();
  t.same(calls.map((c) => c.outcomes), [['result-0', 'result-1'], ['result-2'], ['result-3', 'result-4', 'result-5']], 'each sink got its own texts, by position');
  t.throws(() => batcher.enqueue([{ payload: { id: 9, tokens: 10 }, tokens: 10 }], { signal: { aborted: true } }, recordingSink().sink), { code: 'REQUEST_ABORTED' }, 'the same admission rules as submitMany, refused by throwing');
});

t.test('a signal that says why it aborted is counted under that reason', async (t) => {
  const { batches, submit, rejected } = setup();
  void submit(); // running: the next texts wait
  const signal = { aborted: false, dropReason: 'sibling_failed' as const };
  const dropped = submit(10, { signal });
  signal.aborted = true;
  batches[0]!.finish();
  await t.rejects(dropped, { code: 'REQUEST_ABORTED' });
  t.same(rejected, [['sibling_failed', 1]], 'not counted as a client that went away');
});

t.test('while every worker is busy, a batch is sealed when it reaches maxBatchSize', async (t) => {
  const { batches, submit } = setup({ maxBatchSize: 4, maxWaitMs: 1000 });
  void submit(); // occupies the only worker
  for (let i = 0; i < 3; i++) void submit();
  t.equal(batches.length, 1, 'three waiting texts do not fill a batch of four');
  void submit();
  t.equal(batches.length, 2, 'the fourth seals the batch (handed to the runner as prefetch)');
  t.same(batches[1]!.payloads.map((p) => p.id), [1, 2, 3, 4]);
});

t.test('while every worker is busy, a batch is sealed at the padded-token budget', async (t) => {
  // Lengths pad to multiples of 8: 30 tokens count as 32; budget 100 holds 3 × 32 = 96, not 4 × 32.
  const { batches, submit, started } = setup({ maxBatchSize: 32, maxBatchTokens: 100, maxWaitMs: 1000 });
  void submit(30);
  void submit(30);
  void submit(30);
  t.equal(batches.length, 1, 'two waiting texts (64 padded tokens) leave room');
  void submit(30);
  t.equal(batches.length, 2, 'the third reaches the budget: 4 × 32 would pass 100');
  t.equal(batches[1]!.payloads.length, 3);
  t.equal(started[1]!.paddedTokens, 96);
  t.equal(started[1]!.paddedLength, 32);
  t.equal(started[1]!.realTokens, 90);
});

t.test('while every worker is busy, a batch is sealed when its oldest text has waited maxWaitMs', async (t) => {
  const { fake, batches, submit, started } = setup({ maxBatchSize: 32, maxWaitMs: 5 });
  void submit();
  void submit();
  fake.tick(2);
  void submit();
  fake.tick(2);
  t.equal(batches.length, 1, 'not yet: the oldest has waited 4 ms');
  fake.tick(1);
  t.equal(batches.length, 2, 'sealed at 5 ms');
  t.same(batches[1]!.payloads.map((p) => p.id), [1, 2]);
  t.same(started[1]!.queueWaitsMs, [5, 3]);
});

t.test('sealed batches beyond the prefetch wait for a worker; a freed worker takes what is waiting at once', async (t) => {
  const { fake, batches, submit } = setup({ maxBatchSize: 32, maxWaitMs: 5, prefetch: 1 });
  void submit(); // running
  void submit();
  fake.tick(5); // sealed as the prefetched batch
  t.equal(batches.length, 2);
  void submit();
  void submit();
  fake.tick(50);
  t.equal(batches.length, 2, 'no slot left: the texts keep waiting however long');
  batches[0]!.finish();
  await settle();
  t.equal(batches.length, 3, 'a slot freed: the waiting texts go');
  t.same(batches[2]!.payloads.map((p) => p.id), [2, 3]);
});

t.test('as many batches run at once as there are workers', async (t) => {
  const { batches, submit } = setup({ concurrency: 3, prefetch: 0, maxWaitMs: 1000 });
  void submit();
  void submit();
  void submit();
  t.equal(batches.length, 3, 'three idle workers take one text each');
  void submit();
  t.equal(batches.length, 3, 'the fourth waits: every worker busy and no prefetch');
});

t.test('each caller gets its own result, in order, from mixed batches', async (t) => {
  const { batches, submit } = setup({ maxBatchSize: 8, maxWaitMs: 0, concurrency: 2 });
  const results = Array.from({ length: 40 }, (_, i) => submit(8 + (i % 5) * 8));
  for (let round = 0; round < 20 && batches.some((b) => b); round++) {
    for (const batch of batches.splice(0)) batch.finish();
    await settle();
  }
  const values = await Promise.all(results);
  t.same(values.map((v) => v.value), Array.from({ length: 40 }, (_, i) => `result-${i}`));
});

t.test('within what is waiting, texts of similar length share a batch', async (t) => {
  // No prefetch: the texts all wait while the worker is busy, then the freed worker cuts from all of them.
  const { batches, submit, started } = setup({ maxBatchSize: 3, maxWaitMs: 1000, prefetch: 0 });
  void submit(10); // occupies the worker
  const lengths = [8, 120, 9, 118, 7, 121];
  for (const tokens of lengths) void submit(tokens);
  batches[0]!.finish();
  await settle();
  // Anchored on the oldest (8 tokens): its own length step first (7), then the nearest (9 → 16).
  t.same(batches[1]!.payloads.map((p) => p.tokens), [8, 7, 9]);
  t.equal(started[1]!.paddedTokens, 48, '3 × 16, where arrival order would have padded to 3 × 120');
  batches[1]!.finish();
  await settle();
  t.same(batches[2]!.payloads.map((p) => p.tokens), [120, 118, 121]);
});

t.test('a long text is never starved by a stream of short ones', async (t) => {
  const { batches, submit } = setup({ maxBatchSize: 4, maxWaitMs: 1000, prefetch: 0 });
  void submit(8); // occupies the worker
  void submit(500); // the long one, second oldest
  for (let i = 0; i < 12; i++) void submit(8);
  // While the worker is busy, keep feeding short texts; each freed slot takes the oldest as anchor.
  batches[0]!.finish();
  await settle();
  t.equal(batches.length, 2);
  t.ok(batches[1]!.payloads.some((p) => p.tokens === 500), 'the next batch is anchored on the long text');
});

t.test('a text over the token budget still runs, alone', async (t) => {
  const { batches, submit } = setup({ maxBatchTokens: 64 });
  const result = submit(200);
  t.equal(batches.length, 1);
  t.equal(batches[0]!.payloads.length, 1);
  batches[0]!.finish();
  t.equal((await result).value, 'result-0');
});

t.test('a full queue refuses at once, with a Retry-After estimate, and refuses a client batch whole', async (t) => {
  const { batcher, rejected } = setup({ maxQueue: 3, concurrency: 1, prefetch: 0 });
  void batcher.submit({ payload: { id: 0, tokens: 8 }, tokens: 8 }); // running, not queued
  const waiting = batcher.submitMany([1, 2].map((id) => ({ payload: { id, tokens: 8 }, tokens: 8 })));
  t.equal(batcher.depth, 2);
  const refused = batcher.submitMany([3, 4].map((id) => ({ payload: { id, tokens: 8 }, tokens: 8 })));
  for (const promise of refused) {
    await t.rejects(promise, { code: 'QUEUE_FULL', retryAfterSeconds: 1 });
  }
  t.equal(batcher.depth, 2, 'nothing of the refused call was queued');
  t.same(rejected, [['queue_full', 2]]);
  t.equal(waiting.length, 2);
});

t.test('saturation is reported before the queue is full', async (t) => {
  const { batcher, submit } = setup({ maxQueue: 10, saturationRatio: 0.5, prefetch: 0 });
  void submit();
  for (let i = 0; i < 4; i++) void submit();
  t.equal(batcher.saturated, false);
  void submit();
  t.equal(batcher.depth, 5);
  t.equal(batcher.saturated, true);
});

t.test('a text whose deadline passes while it waits is dropped before inference', async (t) => {
  const { fake, batches, submit, rejected } = setup({ prefetch: 0 });
  void submit(); // occupies the worker
  const late = submit(10, { deadline: 100 });
  const onTime = submit(10, { deadline: 10_000 });
  fake.tick(100);
  await t.rejects(late, { code: 'DEADLINE_EXCEEDED' });
  t.same(rejected, [['deadline', 1]]);
  batches[0]!.finish();
  await settle();
  t.same(batches[1]!.payloads.map((p) => p.id), [2], 'only the text on time runs');
  batches[1]!.finish();
  t.equal((await onTime).value, 'result-2');
});

t.test('a text whose client went away is dropped before inference', async (t) => {
  const { batches, submit, batcher, rejected } = setup({ prefetch: 0 });
  void submit();
  const controller = new AbortController();
  const gone = submit(10, { signal: controller.signal });
  const stays = submit(10);
  t.equal(batcher.depth, 2);
  controller.abort();
  // Checked when the queue is next looked at: here, when the running batch finishes.
  batches[0]!.finish();
  await t.rejects(gone, { code: 'REQUEST_ABORTED' });
  t.same(rejected, [['aborted', 1]]);
  t.same(batches[1]!.payloads.map((p) => p.id), [2], 'only the text whose client is still there runs');
  batches[1]!.finish();
  t.equal((await stays).value, 'result-2');
  t.equal(batcher.depth, 0);
});

t.test('a gone client is noticed anywhere in the queue, not only at its head', async (t) => {
  const { batches, batcher, rejected } = setup({ prefetch: 0, maxBatchSize: 8 });
  let clientGone = false;
  void batcher.submit({ payload: { id: 0, tokens: 8 }, tokens: 8 });
  const waiting = batcher.submit({ payload: { id: 1, tokens: 8 }, tokens: 8 });
  const gone = batcher.submit({ payload: { id: 2, tokens: 8 }, tokens: 8 }, { signal: { get aborted() { return clientGone; } } });
  clientGone = true;
  batches[0]!.finish();
  await t.rejects(gone, { code: 'REQUEST_ABORTED' });
  t.same(batches[1]!.payloads.map((p) => p.id), [1]);
  t.same(rejected, [['aborted', 1]]);
  batches[1]!.finish();
  await waiting;
});

t.test('a client already gone at submission is refused at once', async (t) => {
  const { batcher, batches } = setup();
  await t.rejects(batcher.submit({ payload: { id: 0, tokens: 8 }, tokens: 8 }, { signal: AbortSignal.abort() }), { code: 'REQUEST_ABORTED' });
  t.equal(batches.length, 0);
});

t.test('aborting after dispatch does not disturb the batch', async (t) => {
  const { batches, submit } = setup();
  const controller = new AbortController();
  const result = submit(10, { signal: controller.signal });
  controller.abort();
  batches[0]!.finish();
  t.equal((await result).value, 'result-0');
});

t.test('a failed batch fails each of its texts, and the queue carries on', async (t) => {
  const { batches, submit } = setup({ maxBatchSize: 2, prefetch: 0 });
  const a = submit();
  batches[0]!.fail(Object.assign(new Error('worker died'), { code: 'WORKER_CRASHED' }));
  await t.rejects(a, { code: 'WORKER_CRASHED' });
  const b = submit();
  t.equal(batches.length, 2);
  batches[1]!.finish();
  t.equal((await b).value, 'result-1');
});

t.test('a runner that returns the wrong number of results fails the batch', async (t) => {
  const batcher = new MicroBatcher<number, number>({
    runner: async () => [1],
    maxBatchSize: 4, maxBatchTokens: 1000, maxWaitMs: 0, maxQueue: 10, concurrency: 1, prefetch: 0,
  });
  const results = batcher.submitMany([{ payload: 1, tokens: 8 }, { payload: 2, tokens: 8 }]);
  for (const result of results) await t.rejects(result, /returned 1 results for 2 texts/);
  t.equal(batcher.inFlight, 0, 'the slot is free again');
});

t.test('only texts of the same group share a batch', async (t) => {
  const { batches, batcher } = setup({ maxBatchSize: 8, maxWaitMs: 0, prefetch: 0 });
  void batcher.submit({ payload: { id: 0, tokens: 8 }, tokens: 8 }, { group: 'a' });
  void batcher.submit({ payload: { id: 1, tokens: 8 }, tokens: 8 }, { group: 'a' });
  void batcher.submit({ payload: { id: 2, tokens: 8 }, tokens: 8 }, { group: 'b' });
  void batcher.submit({ payload: { id: 3, tokens: 8 }, tokens: 8 }, { group: 'a' });
  batches[0]!.finish();
  await settle();
  t.same(batches[1]!.payloads.map((p) => p.id), [1, 3], 'group a only');
  batches[1]!.finish();
  await settle();
  t.same(batches[2]!.payloads.map((p) => p.id), [2]);
});

t.test('close() refuses new texts and finishes every accepted one without waiting for batches to fill', async (t) => {
  const { batches, batcher, submit, fake } = setup({ maxBatchSize: 32, maxWaitMs: 10_000, prefetch: 0 });
  const accepted = [submit(), submit(), submit()];
  let closed = false;
  const closing = batcher.close().then(() => { closed = true; });
  await t.rejects(submit(), { code: 'SHUTTING_DOWN' });
  batches[0]!.finish();
  await settle();
  t.equal(batches.length, 2, 'the rest went at once, not after maxWaitMs');
  t.equal(fake.now, 0);
  t.equal(closed, false, 'not closed while a batch runs');
  batches[1]!.finish();
  await closing;
  t.same((await Promise.all(accepted)).map((c) => c.value), ['result-0', 'result-1', 'result-2']);
});

t.test('options are validated', async (t) => {
  const base = { runner: async () => [], maxBatchSize: 1, maxBatchTokens: 1, maxWaitMs: 0, maxQueue: 1, concurrency: 1 };
  t.throws(() => new MicroBatcher({ ...base, maxBatchSize: 0 }), RangeError);
  t.throws(() => new MicroBatcher({ ...base, maxWaitMs: -1 }), RangeError);
  t.throws(() => new MicroBatcher({ ...base, concurrency: 1.5 }), RangeError);
  t.throws(() => new MicroBatcher({ ...base, runner: 'x' as never }), TypeError);
  const batcher = new MicroBatcher(base);
  t.throws(() => batcher.submit({ payload: 1, tokens: 0 }), RangeError);
});

t.test('an observer that throws never breaks batching: each batch finishes once and nothing stays in flight', async (t) => {
  const { batches, batcher, submit } = setup({
    maxQueue: 3,
    observer: {
      onBatchStart: () => { throw new Error('metrics broke at batch start'); },
      onReject: () => { throw new Error('metrics broke at reject'); },
    },
  });
  const first = submit();
  t.equal(batches.length, 1, 'the batch was dispatched although onBatchStart threw');
  batches[0]!.finish();
  t.equal((await first).value, 'result-0');
  t.equal(batcher.inFlight, 0, 'nothing counted in flight after the batch');
  // A failing batch is finished once as well: a second finish would drive inFlight below zero.
  const failing = submit();
  batches[1]!.fail(new Error('runner failed'));
  await t.rejects(failing, /runner failed/);
  t.equal(batcher.inFlight, 0);
  // A refusal still refuses, although onReject throws.
  const refused = Array.from({ length: 5 }, () => submit());
  await t.rejects(refused[4]!, { code: 'QUEUE_FULL' });
  for (const batch of batches.slice(2)) batch.finish();
  await settle();
  for (const batch of batches.slice(2)) batch.finish();
  await settle();
  for (const batch of batches.slice(2)) batch.finish();
  await Promise.allSettled(refused);
  await batcher.idle();
  t.equal(batcher.inFlight, 0);
});

t.test('padTo counts a text at the length the runner pads it to (capped at the model limit)', async (t) => {
  // A 130-token model with an 8-token multiple: 130 tokens pad to 130, not 136.
  const { batches, submit, started } = setup({ padTo: (tokens) => Math.min(Math.ceil(tokens / 8) * 8, 130), maxBatchTokens: 260, maxBatchSize: 8 });
  void submit(10); // goes alone to the idle worker
  void submit(130);
  void submit(129);
  void submit(3);
  batches[0]!.finish();
  await settle();
  t.same(started[1]!.paddedLength, 130, 'both long texts counted at the capped 130');
  t.equal(started[1]!.size, 2, 'two texts of 130 fit a 260-token budget');
  t.equal(started[1]!.paddedTokens, 260);
});

t.test('once a batch has been timed, a text that can no longer finish by its deadline is dropped before inference, by the timer', async (t) => {
  const { fake, batches, submit, rejected, timeOneBatch } = setup({ prefetch: 0, maxBatchSize: 1 });
  await timeOneBatch(100); // a batch takes 100 ms: 10 texts/s
  void submit(); // runs from t=100
  const tooLate = submit(10, { deadline: 250 }); // must start by t=150
  const onTime = submit(10, { deadline: 10_000 });
  fake.tick(49);
  await settle();
  t.same(rejected, [], 'still possible at t=149');
  fake.tick(1);
  await t.rejects(tooLate, { code: 'DEADLINE_EXCEEDED', message: /a batch may take 100 ms/ }, 'dropped at t=150, 100 ms before its deadline');
  t.same(rejected, [['deadline', 1]]);
  batches[1]!.finish();
  await settle();
  t.same(batches[2]!.payloads.map((p) => p.id), [3], 'only the text that can finish runs');
  batches[2]!.finish();
  t.equal((await onTime).value, 'result-3');
});

t.test('a call that the texts already waiting would keep past its deadline is refused at once, whole, with Retry-After', async (t) => {
  const { submit, batcher, rejected, timeOneBatch } = setup({ prefetch: 0, maxBatchSize: 1 });
  await timeOneBatch(100); // 10 texts/s, 100 ms a batch
  void submit(); // running
  for (let i = 0; i < 5; i++) void submit(10, { deadline: 100_000 });
  const entries = [50, 51].map((id) => ({ payload: { id, tokens: 10 }, tokens: 10 }));
  // 7 texts at 10/s and one more batch: answered about 800 ms from now (t=100), past a deadline at t=600.
  for (const refused of batcher.submitMany(entries, { deadline: 600 })) {
    await t.rejects(refused, { code: 'QUEUE_FULL', retryAfterSeconds: 1, message: /the 5 texts ahead would keep these past their deadline/ });
  }
  t.same(rejected, [['queue_full', 2]], 'refused whole, counted as a full queue');
  t.equal(batcher.depth, 5, 'nothing of the refused call is queued');
  void batcher.submitMany(entries, { deadline: 1_000 });
  t.equal(batcher.depth, 7, 'a deadline the queue can meet is taken');
  t.same(rejected, [['queue_full', 2]]);
});

t.test('with nothing waiting, a call is taken whatever its deadline; its texts that cannot finish get 504, not 503', async (t) => {
  const { fake, batches, batcher, rejected, timeOneBatch } = setup({ prefetch: 0, maxBatchSize: 1 });
  await timeOneBatch(1_000); // one text a second
  // Three texts due in 1.5 s: retrying later would not make them fit, so they are not refused with 503.
  const call = batcher.submitMany([7, 8, 9].map((id) => ({ payload: { id, tokens: 10 }, tokens: 10 })), { deadline: 2_500 });
  t.same(rejected, [], 'taken');
  t.same(batches[1]!.payloads.map((p) => p.id), [7], 'the first runs at once');
  fake.tick(500);
  await t.rejects(call[1]!, { code: 'DEADLINE_EXCEEDED' }, 'the others could start at 2 s at the earliest and end past 2.5 s: dropped at 1.5 s');
  await t.rejects(call[2]!, { code: 'DEADLINE_EXCEEDED' });
  t.same(rejected, [['deadline', 1], ['deadline', 1]], 'each dropped as it reached the head');
  fake.tick(500);
  batches[1]!.finish();
  t.equal((await call[0]!).value, 'result-7');
  t.equal(batches.length, 2, 'neither ran');
});

t.test('a batch handed ahead of a free worker is timed from when that worker frees, not from its dispatch', async (t) => {
  const { fake, batches, submit, batcher, rejected } = setup({ prefetch: 1, maxBatchSize: 1 });
  const a = submit();
  const b = submit();
  t.equal(batches.length, 2, 'b is handed ahead while a runs');
  fake.tick(100);
  batches[0]!.finish();
  await a;
  fake.tick(100);
  batches[1]!.finish();
  await b; // each ran 100 ms (b from t=100): 10 texts/s, not the 5/s its 200 ms since dispatch would say
  void submit(); // runs
  void submit(); // handed ahead
  void submit(); // waits
  const entries = [{ payload: { id: 70, tokens: 10 }, tokens: 10 }];
  // 2 texts at 10/s and one batch: about 300 ms from now; at 5/s and 200 ms a batch it would be 600 ms.
  void batcher.submitMany(entries, { deadline: fake.now + 400 });
  t.same(rejected, [], 'taken: the estimate is the workers\' pace');
  t.equal(batcher.depth, 2);
});
