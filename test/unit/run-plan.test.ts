// How a worker cuts a batch into ONNX Runtime runs (inference/run-plan.ts): sorted by length, within the
// rows and padded-token caps, cut where padded tokens plus a fixed cost per run are least, every text once,
// texts left out never run.
import t from 'tap';
import { planRuns, type RunLimits } from '../../inference/run-plan.js';

/** Runs of at most `maxRows` texts and `maxTokens` padded tokens, a fixed cost too high to pay twice where once does. */
const upTo = (maxRows: number, maxTokens: number): RunLimits => ({ maxRows, maxTokens, overheadTokens: 1e6 });

const runsOf = (plan: ReturnType<typeof planRuns>) => plan.lengths.map((_, r) => [...plan.order.subarray(plan.starts[r], plan.starts[r + 1])]);

/** Padded tokens plus overheads of a plan: what it minimizes. */
const costOf = (plan: ReturnType<typeof planRuns>, overheadTokens: number) => plan.lengths.reduce((sum, length, r) => sum + overheadTokens + (plan.starts[r + 1]! - plan.starts[r]!) * length, 0);

t.test('texts are sorted by length and cut into the fewest runs of at most maxRows, each padded to its own longest', async (t) => {
  const lengths = [30, 5, 12, 7, 40, 6, 9, 33];
  const plan = planRuns(lengths, upTo(3, 10_000), 128);
  t.same(plan.lengths.length, 3, 'eight texts, three a run: three runs');
  t.same([...plan.order], [1, 5, 3, 6, 2, 0, 7, 4], 'shortest first');
  // Padded 8 8 8 | 16 16 | 32 40 40: 176 tokens, against 184 for 8 8 | 8 16 16 | 32 40 40.
  t.same(runsOf(plan), [[1, 5, 3], [6, 2], [0, 7, 4]], 'of the three-run cuts, the one with the least padding');
  t.same(plan.lengths, [8, 16, 40], 'padded to multiples of 8 per run');
});

t.test('a run closes before its padded tokens would pass maxTokens; a text over it alone still runs', async (t) => {
  const plan = planRuns([10, 10, 10, 70, 8], upTo(32, 48), 128);
  t.same(runsOf(plan), [[4], [0, 1, 2], [3]], '3 × 16 = 48 fits, a fourth would make 64 (the 8-token text runs on its own rather than pad to 16); the 72-token text runs alone');
  t.same(plan.lengths, [8, 16, 72]);
  for (const [r, run] of runsOf(plan).entries()) t.ok(run.length === 1 || run.length * plan.lengths[r]! <= 48, `run ${r} within 48 tokens`);
});

t.test('equal lengths keep their order; excluded texts run nowhere; an empty batch plans no run', async (t) => {
  const plan = planRuns([4, 4, 4, 4], upTo(2, 1000), 128, (i) => i !== 1);
  t.same(runsOf(plan).flat(), [0, 2, 3]);
  t.equal(plan.lengths.length, 2);
  t.same(planRuns([], upTo(8, 1000), 128), { order: new Int32Array(0), starts: [0], lengths: [] });
});

t.test('lengths are capped at the model\'s limit when padded', async (t) => {
  t.same(planRuns([125], upTo(8, 1000), 128).lengths, [128]);
  t.same(planRuns([100], upTo(8, 1000), 100).lengths, [100], 'never padded past the limit');
});

t.test('the fixed cost of a run against padding: few texts pad on, a large group runs alone', async (t) => {
  // Padded lengths 8 × 3, 16 × 2, 24 × 4.
  const lengths = [20, 3, 12, 5, 18, 22, 7, 15, 24];
  const free = planRuns(lengths, { maxRows: 8, maxTokens: 10_000, overheadTokens: 0 }, 128);
  t.same(free.lengths, [8, 16, 24], 'no fixed cost: a run per padded length, no padding beyond the rounding');
  t.same(runsOf(free), [[1, 3, 6], [2, 7], [4, 0, 5, 8]]);
  const costly = planRuns(lengths, { maxRows: 8, maxTokens: 10_000, overheadTokens: 20 }, 128);
  // 20 a run: the two 16-token texts pad on to 24 (2 × 8 = 16 < 20); the three 8-token texts would pad 3 × 16 = 48 > 20.
  t.same(runsOf(costly), [[1, 3, 6], [2, 7, 4, 0, 5, 8]]);
  t.same(costly.lengths, [8, 24]);
  t.equal(costOf(costly, 20), 2 * 20 + 3 * 8 + 6 * 24);
  const few = planRuns([3, 12, 28, 29], { maxRows: 8, maxTokens: 10_000, overheadTokens: 10 }, 128);
  t.same(runsOf(few), [[0, 1], [2, 3]], 'a lone 8-token text pads to 16 (8 tokens) rather than pay a run (10)');
  t.same(few.lengths, [16, 32]);
});

t.test('no other cut of the sorted texts costs less', async (t) => {
  // Every way of cutting a sorted batch into consecutive runs, against the plan, for random batches.
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + Math.floor(random() * 9);
    const lengths = Array.from({ length: n }, () => 2 + Math.floor(random() * 60));
    const limits = { maxRows: 1 + Math.floor(random() * 6), maxTokens: 64 + Math.floor(random() * 200), overheadTokens: Math.floor(random() * 40) };
    const plan = planRuns(lengths, limits, 128);
    const padded = [...plan.order].map((i) => Math.min(Math.ceil(lengths[i]! / 8) * 8, 128));
    let best = Infinity;
    for (let mask = 0; mask < 2 ** (n - 1); mask++) {
      let cost = 0;
      let start = 0;
      let ok = true;
      for (let end = 1; end <= n && ok; end++) {
        if (end < n && (mask & (1 << (end - 1))) === 0) continue;
        const rows = end - start;
        const length = padded[end - 1]!;
        if (rows > limits.maxRows || (rows > 1 && rows * length > limits.maxTokens)) ok = false;
        cost += limits.overheadTokens + rows * length;
        start = end;
      }
      if (ok) best = Math.min(best, cost);
    }
    if (costOf(plan, limits.overheadTokens) !== best) {
      t.fail(`lengths ${lengths.join(",")} limits ${JSON.stringify(limits)}: plan costs ${costOf(plan, limits.overheadTokens)}, best ${best}`);
      return;
    }
    if (plan.starts.some((s, r) => r > 0 && s - plan.starts[r - 1]! > limits.maxRows)) t.fail('a run over maxRows');
  }
  t.pass('200 random batches: the plan is the cheapest cut within the limits');
});
