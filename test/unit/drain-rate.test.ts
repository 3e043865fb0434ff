// The drain-rate estimates the batcher sheds by: texts per second, and how long a batch may take (smoothed
// time plus four mean deviations, as TCP bounds a round trip).
import t from 'tap';
import { DrainRate } from '../../batching/drain-rate.js';

t.test('nothing is known before the first batch: no bound, no time to finish, Retry-After 1 s', async (t) => {
  const rate = new DrainRate();
  t.equal(rate.batchBoundMs, 0);
  t.equal(rate.msToFinish(1_000), 0);
  t.equal(rate.secondsToDrain(1_000), 1);
});

t.test('steady batches: the bound is the batch time, and the time to finish counts the queue at the measured rate', async (t) => {
  const rate = new DrainRate();
  for (let i = 0; i < 5; i++) rate.observe(10, 2, 100); // 10 texts in 100 ms on each of 2 workers: 200 texts/s
  t.equal(rate.batchBoundMs, 100);
  t.equal(rate.msToFinish(400), 2_100, '400 texts at 200/s, then one batch');
  t.equal(rate.secondsToDrain(400), 2);
});

t.test('batches that vary widen the bound by four mean deviations', async (t) => {
  const rate = new DrainRate();
  rate.observe(1, 1, 100);
  rate.observe(1, 1, 200); // smoothed 100 + 0.2 × 100 = 120; deviation 0.2 × 100 = 20
  t.equal(rate.batchBoundMs, 200);
  for (let i = 0; i < 50; i++) rate.observe(1, 1, 120);
  t.ok(rate.batchBoundMs < 121, `back near the batch time once it steadies (${rate.batchBoundMs.toFixed(2)} ms)`);
});
