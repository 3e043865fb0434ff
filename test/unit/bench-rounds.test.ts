// compare's and bulk's rounds and compare's CPU-per-text table (bench/repeats.ts, bench/bulk.ts,
// bench/cpu-per-text.ts), on made-up runs.
import t from 'tap';
import { BULK_MODES, medianScoreRun } from '../../bench/bulk.js';
import { cpuPerText, leftCheck } from '../../bench/cpu-per-text.js';
import { median, medianRun, mergeRounds, roundOrder } from '../../bench/repeats.js';
import { benchResults, benchRun } from '../helpers/bench-fixtures.js';

t.test('rounds alternate the order; a figure is the median of its rounds', async (t) => {
  t.same(roundOrder(['a', 'b', 'c'], 0), ['a', 'b', 'c']);
  t.same(roundOrder(['a', 'b', 'c'], 1), ['c', 'b', 'a']);
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([4, 1]), 2.5, 'of two: their mean');
  const slow = benchRun(500, 1000, 300);
  const fast = benchRun(500, 1400, 200);
  const run = medianRun([fast, slow]);
  t.equal(run.textsPerSecond, 1200);
  t.equal(run.latency.p99, 250);
  t.equal(run.requests, slow.requests, 'counts stay the lower middle run\'s');
  const merged = mergeRounds([{ id: 'service', title: 's', runs: [slow] }, { id: 'service', title: 's', runs: [fast] }]);
  t.equal(merged.runs[0]!.textsPerSecond, 1200);
  t.same(merged.rounds, [[slow], [fast]], 'every run kept');
  t.equal(mergeRounds([{ id: 'seed', title: 's', runs: [slow] }, { id: 'seed', title: 's', runs: [], skipped: 'gone' }]).skipped, 'gone');
});

t.test('bulk: each mode\'s figure is the median of its rounds, which alternate and are all kept', async (t) => {
  t.same(roundOrder(BULK_MODES, 0), ['in-process', 'stream']);
  t.same(roundOrder(BULK_MODES, 1), ['stream', 'in-process']);
  const run = (textsPerSecond: number, exitCode = 0) => ({ texts: 1000, seconds: 1000 / textsPerSecond, textsPerSecond, exitCode, stderr: `${textsPerSecond}` });
  const two = medianScoreRun([run(9000), run(9600, 1)]);
  t.equal(two.textsPerSecond, 9300, 'of two: their mean');
  t.equal(two.stderr, '9000', 'the rest is the lower middle round\'s');
  t.same(two.rounds.map((r) => r.exitCode), [0, 1], 'every round kept, a failed one too');
  t.equal(medianScoreRun([run(3), run(1), run(2)]).textsPerSecond, 2);
  t.throws(() => medianScoreRun([]), RangeError);
});

t.test('CPU per text: what is left once ONNX Runtime, the tokenizer and HTTP alone are taken away', async (t) => {
  const service = benchRun(500, 2000, 200); // replicas 1.2 cores → 0.6 ms a text
  const baseline = { ...benchRun(500, 1500, 300) }; // 0.8 ms a text
  const noop = { ...benchRun(500, 10_000, 50) }; // 0.12 ms a text
  const results = benchResults({ service, baseline, noop });
  results.ceilings.ort = { tweetsPerSecond: 8000, batch: 8, threads: 1, sessions: 2, seconds: 15, command: [], raw: {} }; // 0.25 ms
  results.ceilings.tok = { tweetsPerSecond: 40_000, threads: 2, seconds: 15, tokensPerTweet: 30 }; // 0.05 ms
  const rows = cpuPerText(results, 500);
  const row = rows.find((r) => r.system === 'service')!;
  t.ok(Math.abs(row.replicas - 0.6) < 1e-9);
  t.ok(Math.abs(row.left! - (0.6 - 0.25 - 0.05 - 0.12)) < 1e-9, `left ${row.left}`);
  const check = leftCheck(rows)!;
  t.equal(check.met, true, `${check.measured}: 0.18 is at most half of 0.38`);
  const closer = cpuPerText(benchResults({ service, baseline: benchRun(500, 1700, 300), noop }), 500).map((r) => ({ ...r, ort: 0.25, tokenizer: 0.05, left: r.replicas - 0.42 }));
  t.equal(leftCheck(closer)!.met, false, `${leftCheck(closer)!.measured}: more than half`);
  t.equal(leftCheck(rows.filter((r) => r.system !== 'baseline')), undefined, 'no baseline, no check');
});
