// How a worker cuts a batch into ONNX Runtime runs (inference/run-plan.ts): sorted by length, within the
// rows and padded-token caps, every text once, texts left out never run.
import t from 'tap';
import { planRuns } from '../../inference/run-plan.js';

const runsOf = (plan: ReturnType<typeof planRuns>) => plan.lengths.map((_, r) => [...plan.order.subarray(plan.starts[r], plan.starts[r + 1])]);

t.test('texts are sorted by length and cut into runs of at most maxRows, each padded to its own longest', async (t) => {
  const lengths = [30, 5, 12, 7, 40, 6, 9, 33];
  const plan = planRuns(lengths, 3, 10_000, 128);
  t.same(runsOf(plan), [[1, 5, 3], [6, 2, 0], [7, 4]]);
  t.same(plan.lengths, [8, 32, 40], 'padded to multiples of 8 per run');
});

t.test('a run closes before its padded tokens would pass maxTokens; a text over it alone still runs', async (t) => {
  const plan = planRuns([10, 10, 10, 70, 8], 32, 48, 128);
  t.same(runsOf(plan), [[4, 0, 1], [2], [3]], '3 × 16 = 48 fits, a fourth would make 64; the 72-token text runs alone');
  t.same(plan.lengths, [16, 16, 72]);
});

t.test('equal lengths keep their order; excluded texts run nowhere; an empty batch plans no run', async (t) => {
  const plan = planRuns([4, 4, 4, 4], 2, 1000, 128, (i) => i !== 1);
  t.same(runsOf(plan), [[0, 2], [3]]);
  t.same(planRuns([], 8, 1000, 128), { order: new Int32Array(0), starts: [0], lengths: [] });
});

t.test('lengths are capped at the model\'s limit when padded', async (t) => {
  t.same(planRuns([125], 8, 1000, 128).lengths, [128]);
  t.same(planRuns([100], 8, 1000, 100).lengths, [100], 'never padded past the limit');
});
