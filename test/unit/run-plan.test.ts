// How a worker cuts a batch into ONNX Runtime runs (inference/run-plan.ts): sorted by length, within the
// rows and padded-token caps, ended where the padded length grows once long enough, every text once,
// texts left out never run.
import t from 'tap';
import { planRuns, type RunLimits } from '../../inference/run-plan.js';

/** Runs of at most `maxRows` texts and `maxTokens` padded tokens, ended by nothing else. */
const upTo = (maxRows: number, maxTokens: number): RunLimits => ({ maxRows, minRows: maxRows, maxTokens });

const runsOf = (plan: ReturnType<typeof planRuns>) => plan.lengths.map((_, r) => [...plan.order.subarray(plan.starts[r], plan.starts[r + 1])]);

t.test('texts are sorted by length and cut into runs of at most maxRows, each padded to its own longest', async (t) => {
  const lengths = [30, 5, 12, 7, 40, 6, 9, 33];
  const plan = planRuns(lengths, upTo(3, 10_000), 128);
  t.same(runsOf(plan), [[1, 5, 3], [6, 2, 0], [7, 4]]);
  t.same(plan.lengths, [8, 32, 40], 'padded to multiples of 8 per run');
});

t.test('a run closes before its padded tokens would pass maxTokens; a text over it alone still runs', async (t) => {
  const plan = planRuns([10, 10, 10, 70, 8], upTo(32, 48), 128);
  t.same(runsOf(plan), [[4, 0, 1], [2], [3]], '3 × 16 = 48 fits, a fourth would make 64; the 72-token text runs alone');
  t.same(plan.lengths, [16, 16, 72]);
});

t.test('equal lengths keep their order; excluded texts run nowhere; an empty batch plans no run', async (t) => {
  const plan = planRuns([4, 4, 4, 4], upTo(2, 1000), 128, (i) => i !== 1);
  t.same(runsOf(plan), [[0, 2], [3]]);
  t.same(planRuns([], upTo(8, 1000), 128), { order: new Int32Array(0), starts: [0], lengths: [] });
});

t.test('lengths are capped at the model\'s limit when padded', async (t) => {
  t.same(planRuns([125], upTo(8, 1000), 128).lengths, [128]);
  t.same(planRuns([100], upTo(8, 1000), 100).lengths, [100], 'never padded past the limit');
});

t.test('a run holding minRows texts ends where the padded length grows; a shorter one pads on', async (t) => {
  // Padded lengths 8 8 8 | 16 16 | 24 24 24 24: runs of one padded length, once they hold 2 texts.
  const lengths = [20, 3, 12, 5, 18, 22, 7, 15, 24];
  const plan = planRuns(lengths, { maxRows: 8, minRows: 2, maxTokens: 10_000 }, 128);
  t.same(plan.lengths, [8, 16, 24], 'no run padded beyond its own padded length');
  t.same(runsOf(plan), [[1, 3, 6], [2, 7], [4, 0, 5, 8]]);
  const few = planRuns([3, 12, 20, 21], { maxRows: 8, minRows: 2, maxTokens: 10_000 }, 128);
  t.same(runsOf(few), [[0, 1], [2, 3]], 'a lone 8-token text is not run alone: it pads on to 16 with the next');
  t.same(few.lengths, [16, 24]);
});
