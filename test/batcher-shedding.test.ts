// The batcher refuses at once (503 QUEUE_FULL with Retry-After) a call whose deadline would pass before the
// texts already waiting drain at the measured rate, instead of letting it wait out its deadline for a 504
// (issue 13: a heavy model at 500 connections). A fake clock and a runner finished by hand.
import t from 'tap';
import FakeTimers from '@sinonjs/fake-timers';
import { MicroBatcher } from '../batching/batcher.js';

function setup() {
  const fake = FakeTimers.createClock(0);
  const running: (() => void)[] = [];
  const rejected: [string, number][] = [];
  const batcher = new MicroBatcher<number, number>({
    runner: (payloads) => new Promise((resolve) => running.push(() => resolve(payloads))),
    maxBatchSize: 1, maxBatchTokens: 1024, maxWaitMs: 0, maxQueue: 100, concurrency: 1, prefetch: 0,
    clock: { now: () => fake.now, setTimeout: (f, ms) => fake.setTimeout(f, ms), clearTimeout: (h) => fake.clearTimeout(h as FakeTimers.TimerId) },
    observer: { onReject: (reason, texts) => rejected.push([reason, texts]) },
  });
  return { fake, batcher, running, rejected };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

t.test('before any batch has finished, the rate is unknown: nothing is refused for its deadline', async (t) => {
  const { fake, batcher, rejected } = setup();
  for (let i = 0; i < 20; i++) void batcher.submit({ payload: i, tokens: 8 }, { deadline: fake.now + 1 }).catch(() => undefined);
  t.equal(batcher.depth, 19);
  t.same(rejected, []);
});

t.test('a deadline the queue cannot meet is refused at once; one it can meet waits', async (t) => {
  const { fake, batcher, running, rejected } = setup();
  const first = batcher.submit({ payload: 0, tokens: 8 });
  fake.tick(100); // one text a batch, 100 ms a batch: 10 texts a second
  running.shift()!();
  await first;
  void batcher.submit({ payload: 1, tokens: 8 }); // runs
  const waiting = Array.from({ length: 5 }, (_, i) => batcher.submit({ payload: 2 + i, tokens: 8 })); // 500 ms to drain
  t.equal(batcher.depth, 5);
  const late = batcher.submitMany([{ payload: 7, tokens: 8 }, { payload: 8, tokens: 8 }], { deadline: fake.now + 400 });
  for (const promise of late) await t.rejects(promise, { code: 'QUEUE_FULL', retryAfterSeconds: 1, message: /5 texts waiting take about 500 ms, past this request's deadline/ });
  t.same(rejected, [['queue_full', 2]], 'counted as a queue-full refusal, the whole call');
  t.equal(batcher.depth, 5, 'nothing of the refused call was queued');
  const onTime = batcher.submit({ payload: 9, tokens: 8 }, { deadline: fake.now + 1000 });
  t.equal(batcher.depth, 6, 'a deadline the queue meets: queued');
  for (let i = 0; i < 7; i++) {
    await settle();
    running.shift()?.();
  }
  await Promise.all(waiting);
  t.equal((await onTime).value, 9);
});
