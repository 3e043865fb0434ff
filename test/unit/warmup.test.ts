// The warm-up climbs batch shapes only while each fits its time budget, and MAX_BATCH_TOKENS follows from the
// cost per token it measures. Driven by a fake clock: a "model" whose run advances the clock by a cost of our
// choosing, so the behaviour is proven without timing anything real. The running service: test/integration/warmup-service.test.ts.
import t from 'tap';
import { autoMaxBatchTokens, autoMaxQueue, CPU_MAX_BATCH_TOKENS, CPU_MAX_QUEUE, MIN_BATCH_TOKENS, QUEUE_DRAIN_SHARE, TARGET_BATCH_MS, TWEET_PADDED_TOKENS } from '../../core/batch-budget.js';
import { loadConfig } from '../../core/config.js';
import { STEADY_RUNS, WARMUP_BUDGET_MS, estimateMs, runOverhead, warmUp, warmupLadder, type WarmupShape } from '../../inference/warmup.js';

/** A fake model: each run costs `msPerToken` per padded token, times length/64 beyond 64 (attention). */
function fakeModel(msPerToken: number, { firstRunExtra = 0 } = {}) {
  let clock = 0;
  const seen = new Set<string>();
  const runs: WarmupShape[] = [];
  const run = async (shape: WarmupShape) => {
    runs.push(shape);
    const key = `${shape.rows}x${shape.length}`;
    clock += shape.rows * shape.length * msPerToken * Math.max(1, shape.length / 64) + (seen.has(key) ? 0 : firstRunExtra);
    seen.add(key);
  };
  return { run, runs, now: () => clock };
}

t.test('the ladder: a lone request first, rows doubling at a tweet length, then the length up to the limit', async (t) => {
  const { tweetLength, longer } = warmupLadder(32, 512);
  t.same(tweetLength, [{ rows: 1, length: 8 }, { rows: 1, length: 64 }, { rows: 2, length: 64 }, { rows: 4, length: 64 }, { rows: 8, length: 64 }, { rows: 16, length: 64 }, { rows: 32, length: 64 }]);
  t.same(longer, [{ rows: 32, length: 128 }, { rows: 32, length: 256 }, { rows: 32, length: 512 }]);
  const odd = warmupLadder(5, 100);
  t.same(odd.tweetLength.at(-1), { rows: 5, length: 64 }, 'the last rows step is MAX_BATCH_SIZE itself');
  t.same(odd.longer, [{ rows: 5, length: 100 }], 'the last length step is the model\'s limit');
  t.same(warmupLadder(1, 16), { tweetLength: [{ rows: 1, length: 8 }, { rows: 1, length: 16 }], longer: [] }, 'batching off, a short model');
});

t.test('the estimate never under-guesses a cost that grows with tokens and length', async (t) => {
  const cost = (s: WarmupShape) => s.rows * s.length * Math.max(1, s.length / 64);
  const ran = { rows: 32, length: 64, ms: cost({ rows: 32, length: 64 }) };
  for (const next of [{ rows: 32, length: 128 }, { rows: 32, length: 512 }]) t.ok(estimateMs(ran, next) >= cost(next));
});

t.test('a cheap model warms every shape, the largest included, within the budget', async (t) => {
  const model = fakeModel(0.0001);
  const report = await warmUp(model.run, { maxRows: 32, maxTokens: 512, budgetMs: 3000, now: model.now });
  t.same(report.skipped, []);
  t.same(model.runs.at(-1), { rows: 32, length: 512 }, 'ends at MAX_BATCH_SIZE × the model\'s limit');
  t.same(model.runs[0], { rows: 1, length: 8 }, 'starts with the lone request\'s shape');
  t.equal(model.runs.filter((s) => s.rows === 32 && s.length === 64).length, 1 + STEADY_RUNS, 'the calibration shape runs again at steady state, its fastest run counted');
  t.ok(Math.abs(report.msPerToken - 0.0001) < 1e-9, 'the cost per token at a tweet length');
});

t.test('a heavy model stops where the next shape would overrun the budget, and still measures its cost', async (t) => {
  const model = fakeModel(1.5, { firstRunExtra: 20 });
  const report = await warmUp(model.run, { maxRows: 32, maxTokens: 512, budgetMs: 3000, now: model.now });
  t.ok(report.ms <= 3000, `${report.ms} ms within the 3,000 ms budget`);
  t.ok(report.skipped.length > 0, `${report.skipped.length} shapes left out`);
  t.notOk(model.runs.some((s) => s.length > 64), 'no longer shape once a tweet-length one did not fit');
  t.same(report.ran.map(({ rows, length }) => ({ rows, length })), model.runs);
  t.ok(Math.abs(report.msPerToken - 1.5) < 1e-9, 'steady state: the second run of the calibration shape, without first-run costs');
});

t.test('a budget smaller than the first shape still runs that one, and nothing else', async (t) => {
  const model = fakeModel(10);
  const report = await warmUp(model.run, { maxRows: 32, maxTokens: 512, budgetMs: 1, now: model.now });
  t.same(model.runs, [{ rows: 1, length: 8 }]);
  t.equal(report.msPerToken, 10, 'measured on the one shape run');
});

t.test('MAX_BATCH_TOKENS from the cost per token: a batch of about TARGET_BATCH_MS, within bounds', async (t) => {
  t.equal(autoMaxBatchTokens(0.005), CPU_MAX_BATCH_TOKENS, 'a small model keeps the cap');
  const heavy = autoMaxBatchTokens(1.2);
  t.ok(heavy % 8 === 0 && heavy * 1.2 <= TARGET_BATCH_MS && (heavy + 8) * 1.2 > TARGET_BATCH_MS, `${heavy} tokens for 1.2 ms a token`);
  t.equal(autoMaxBatchTokens(100), MIN_BATCH_TOKENS, 'never below one tweet');
  t.equal(autoMaxBatchTokens(0), CPU_MAX_BATCH_TOKENS, 'unknown cost: the cap');
  t.equal(autoMaxBatchTokens(Number.NaN), CPU_MAX_BATCH_TOKENS);
});

t.test('MAX_BATCH_TOKENS: unset on a CPU is chosen after warm-up; set, or on a GPU, it is fixed', async (t) => {
  t.equal(loadConfig({}, []).maxBatchTokens, undefined);
  t.equal(loadConfig({ MAX_BATCH_TOKENS: '2048' }, []).maxBatchTokens, 2048);
  t.equal(loadConfig({ DEVICE: 'cuda' }, []).maxBatchTokens, 65_536);
  t.throws(() => loadConfig({ MAX_BATCH_TOKENS: '0' }, []), /MAX_BATCH_TOKENS must be an integer from 1/);
});

t.test('MAX_QUEUE from the cost per token: a full queue drains in half the deadline, within bounds', async (t) => {
  t.equal(autoMaxQueue(0.007, 2, 10_000, 64), CPU_MAX_QUEUE, 'a small model keeps 2048');
  // The RoBERTa-base-sized model on this VM: 2.13 ms a padded token, one worker a replica.
  const heavy = autoMaxQueue(2.13, 1, 10_000, 64);
  const drainMs = (texts: number, workers: number) => (texts * TWEET_PADDED_TOKENS * 2.13) / workers;
  t.ok(drainMs(heavy, 1) <= 10_000 * QUEUE_DRAIN_SHARE && drainMs(heavy + 1, 1) > 10_000 * QUEUE_DRAIN_SHARE, `${heavy} texts drain in ${drainMs(heavy, 1).toFixed(0)} ms`);
  const two = autoMaxQueue(2.13, 2, 10_000, 64);
  t.ok(two >= 2 * heavy && two <= 2 * heavy + 1, `twice the workers, twice the texts: ${two}`);
  t.ok(autoMaxQueue(2.13, 1, 60_000, 64) > heavy, 'a longer deadline holds more');
  t.equal(autoMaxQueue(50, 1, 10_000, 64), 64, 'never below MAX_CLIENT_BATCH: a full batch call fits');
  t.equal(autoMaxQueue(0, 1, 10_000, 64), CPU_MAX_QUEUE, 'unknown cost: 2048');
  t.equal(autoMaxQueue(Number.NaN, 1, 10_000, 64), CPU_MAX_QUEUE);
});

t.test('MAX_QUEUE: unset on a CPU is chosen after warm-up; set, or on a GPU, it is fixed', async (t) => {
  t.equal(loadConfig({}, []).maxQueue, undefined);
  t.equal(loadConfig({ MAX_QUEUE: '100' }, []).maxQueue, 100);
  t.equal(loadConfig({ DEVICE: 'cuda' }, []).maxQueue, 2048);
  t.throws(() => loadConfig({ MAX_QUEUE: '10' }, []), /MAX_QUEUE \(10\) must be at least MAX_CLIENT_BATCH/);
});

t.test('the rows per run: the tweet-length shape cheapest per token at steady state; the fixed cost of a run, fitted', async (t) => {
  // Per-token cost falls with rows up to 8 (a fixed cost per run shared by more rows), then rises (the
  // activations outgrow the caches): what ONNX Runtime does on a CPU with a small model.
  let clock = 0;
  const run = async ({ rows, length }: WarmupShape) => {
    const perToken = rows <= 8 ? 0.001 : 0.001 * (1 + (rows - 8) / 4);
    clock += 0.5 + rows * length * perToken;
  };
  const report = await warmUp(run, { maxRows: 32, maxTokens: 128, budgetMs: 3000, now: () => clock });
  t.equal(report.runRows, 8, 'dearer above 8 (caches) and below (fixed costs): 8');
  t.ok(Math.abs(report.runOverheadTokens - 500) < 1e-6, `0.5 ms a run at 0.001 ms a token: 500 tokens' worth (${report.runOverheadTokens})`);
  // The shipped model on this kind of CPU: 16 rows cheapest, 8 rows 6 % dearer, 4 rows 23 % (µs a token).
  const measured: Record<number, number> = { 1: 10.2, 2: 7.7, 4: 6.75, 8: 5.8, 16: 5.47, 32: 5.7 };
  let at = 0;
  const shipped = await warmUp(async ({ rows, length }) => { at += (measured[rows] ?? 6) * rows * length / 1000; }, { maxRows: 32, maxTokens: 128, budgetMs: 3000, now: () => at });
  t.equal(shipped.runRows, 32, 'within a tenth of the cheapest: up to 32 rows');
  t.ok(shipped.runOverheadTokens > 40 && shipped.runOverheadTokens < 70, `a lone 64-token row costs about twice a row of 32: a run's fixed cost is worth about a row (${shipped.runOverheadTokens.toFixed(1)} tokens)`);
  const flat = fakeModel(0.001);
  const even = await warmUp(flat.run, { maxRows: 32, maxTokens: 128, budgetMs: 3000, now: flat.now });
  t.equal(even.runRows, 32, 'no size cheaper than another: runs up to MAX_BATCH_SIZE');
  t.ok(even.runOverheadTokens < 1e-6, 'and no fixed cost: runs end at every change of padded length');
  const starved = fakeModel(10);
  const starvedReport = await warmUp(starved.run, { maxRows: 32, maxTokens: 512, budgetMs: 1, now: starved.now });
  t.same([starvedReport.runRows, starvedReport.runOverheadTokens], [32, 32 * 512], 'nothing measured twice: MAX_BATCH_SIZE, and a fixed cost above any padding (as few runs as the limits allow)');
});

t.test('WARMUP_BUDGET_MS: the budget of each worker\'s warm-up, 3 s unless set', async (t) => {
  t.equal(loadConfig({}, []).warmupBudgetMs, WARMUP_BUDGET_MS);
  t.equal(loadConfig({ WARMUP_BUDGET_MS: '250' }, []).warmupBudgetMs, 250);
  t.throws(() => loadConfig({ WARMUP_BUDGET_MS: '-1' }, []), /WARMUP_BUDGET_MS must be an integer from 0/);
});

t.test('the fixed cost of a run is fitted to the relative error of every size, so the small shapes decide it', async (t) => {
  const shape = (rows: number, ms: number) => ({ rows, length: 64, ms });
  t.ok(Math.abs(runOverhead([shape(1, 0.3 + 0.064), shape(4, 0.3 + 0.256), shape(16, 0.3 + 1.024)])! - 300) < 1e-6, 'exact on an affine cost: 0.3 ms at 0.001 ms a token');
  // 5 % noise on the largest shape moves the overhead little: its error weighs as much as a small shape's.
  const noisy = runOverhead([shape(1, 0.364), shape(2, 0.428), shape(4, 0.556), shape(8, 0.812), shape(32, 2.348 * 1.05)])!;
  t.ok(noisy > 250 && noisy < 350, `a noisy largest shape: ${noisy.toFixed(0)} tokens`);
  t.equal(runOverhead([shape(8, 1), shape(8, 1.1)]), undefined, 'one size cannot separate a fixed cost from the tokens');
  t.equal(runOverhead([shape(1, 1), shape(2, 1)]), 0, 'a cost that does not grow with tokens is not fitted');
  t.equal(runOverhead([]), undefined);
});
