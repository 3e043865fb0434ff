// The benchmark harness (bench/) and a short bounded load in CI: 500 connections for 5 s
// through NGINX (the project's nginx.conf rendered for loopback) to 2 replicas of the built service, with
// real validation tweets in the single/batch mix of the benchmarks, 30% of the calls sent as TEI, V2 or HF task
// calls. It measures no speed: it asserts that nothing fails and that every response body is a
// valid prediction for what was sent, in the protocol it was sent in.
// Needs `npm run build` first (pretest does it) and nginx installed.
import t from 'tap';
import { runLoad } from '../../bench/load.js';
import { percentile } from '../../bench/percentile.js';
import { FIXTURE_MODEL } from '../../bench/paths.js';
import { PEER_TARGETS, composedCeiling, computeChecks, chart, markdown, singleLatencyCheck, threeStageCeiling, type Results } from '../../bench/report.js';
import { parseTotals, serverSideStats, scrapeTotals } from '../../bench/scrape.js';
import { lastJsonObject, modelLabels, startSystem, type RunningSystem, type Sizing } from '../../bench/systems.js';
import { CallSource, loadTweets, parseMix, protocolCall } from '../../bench/tweets.js';
import { listResponseProblem, predictionProblem, responseProblem, v2ResponseProblem } from '../../bench/validate.js';
import { benchResults, benchRun } from '../helpers/bench-fixtures.js';
import { startTestService } from '../helpers/service.js';
import { main } from '../../bench/cli.js';

const LABELS = ['negative', 'neutral', 'positive'];
const good = { label: 'positive', score: 0.7, scores: { negative: 0.1, neutral: 0.2, positive: 0.7 }, truncated: false };

t.test('a response body counts as valid only when it is a consistent prediction for what was sent', async (t) => {
  t.equal(predictionProblem(good, LABELS), undefined);
  t.match(predictionProblem({ ...good, label: 'neutral', score: 0.2 }, LABELS), /most likely/);
  t.match(predictionProblem({ ...good, score: 0.6 }, LABELS), /scores\[label\]/);
  t.match(predictionProblem({ ...good, scores: { negative: 0.5, neutral: 0.2, positive: 0.7 } }, LABELS), /sum/);
  t.match(predictionProblem({ ...good, scores: { bad: 0.3, positive: 0.7 } }, LABELS), /labels/);
  t.match(predictionProblem({ ...good, truncated: 'no' }, LABELS), /truncated/);
  t.match(predictionProblem(null), /object/);
  t.equal(responseProblem(JSON.stringify(good), undefined, LABELS), undefined);
  t.equal(responseProblem(JSON.stringify({ predictions: [good, good] }), 2, LABELS), undefined);
  t.match(responseProblem(JSON.stringify({ predictions: [good] }), 2, LABELS), /1 predictions for 2 texts/);
  t.match(responseProblem('<html>', undefined), /not JSON/);
  t.match(responseProblem(JSON.stringify({ predictions: [good] }), undefined), /label/);
});

t.test('TEI, V2 and HF task answers count as valid only when consistent with what was sent', async (t) => {
  const list = [{ label: 'positive', score: 0.7 }, { label: 'neutral', score: 0.2 }, { label: 'negative', score: 0.1 }];
  t.equal(listResponseProblem(JSON.stringify(list), 1, false, LABELS), undefined, 'TEI: one text');
  t.equal(listResponseProblem(JSON.stringify([list, list]), 2, true, LABELS), undefined, 'TEI: a batch');
  t.equal(listResponseProblem(JSON.stringify([list]), 1, false, LABELS, true), undefined, 'HF: always a list per input');
  t.match(listResponseProblem(JSON.stringify([list[1], list[0], list[2]]), 1, false, LABELS), /highest first/);
  t.match(listResponseProblem(JSON.stringify([list]), 2, true, LABELS), /1 lists for 2 texts/);
  t.match(listResponseProblem(JSON.stringify(list.slice(0, 2)), 1, false, LABELS), /labels/);
  const v2 = (labels: string[], rows: number[][]) => JSON.stringify({ model_name: 'm', outputs: [
    { name: 'label', datatype: 'BYTES', shape: [labels.length], data: labels },
    { name: 'probabilities', datatype: 'FP32', shape: [rows.length, 3], data: rows.flat() },
  ] });
  t.equal(v2ResponseProblem(v2(['positive', 'negative'], [[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]]), 2, LABELS), undefined);
  t.match(v2ResponseProblem(v2(['neutral'], [[0.1, 0.2, 0.7]]), 1, LABELS), /most likely/);
  t.match(v2ResponseProblem(v2(['positive'], [[0.1, 0.2, 0.7]]), 2, LABELS), /label is not BYTES \[2\]/);
  t.match(v2ResponseProblem('{"error":"x"}', 1, LABELS), /inference_response/);
  t.same(JSON.parse(protocolCall('v2', ['a', 'b'], true).body), { inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: ['a', 'b'] }] });
  t.same(JSON.parse(protocolCall('tei', ['a', 'b'], true).body), { inputs: [['a'], ['b']] });
  t.same(JSON.parse(protocolCall('hf', ['a'], false).body), { inputs: 'a' });
  const calls = Array.from({ length: 3000 }, ((source) => () => source.next())(new CallSource(loadTweets(), parseMix('0.1:2-16'), 7, 0.3)));
  const share = (kind: string) => calls.filter((c) => c.kind === kind).length / calls.length;
  t.ok(share('api') > 0.65 && share('api') < 0.75, `about 70% /api calls (${share('api')})`);
  for (const kind of ['tei', 'v2', 'hf']) t.ok(share(kind) > 0.07 && share(kind) < 0.13, `about 10% ${kind} calls (${share(kind)})`);
});

t.test('the load draws real tweets in the configured single/batch mix, repeatably', async (t) => {
  const tweets = loadTweets();
  t.equal(tweets.length, 2000, 'the 2,000 validation tweets');
  t.same(parseMix('0'), { batchShare: 0, batchMin: 2, batchMax: 16 });
  t.same(parseMix('0.25:8'), { batchShare: 0.25, batchMin: 8, batchMax: 8 });
  t.same(parseMix('1:2-32'), { batchShare: 1, batchMin: 2, batchMax: 32 });
  t.throws(() => parseMix('1.5'));
  t.throws(() => parseMix('0.1:9-3'));
  const calls = Array.from({ length: 4000 }, ((source) => () => source.next())(new CallSource(tweets, parseMix('0.1:2-16'), 7)));
  const batch = calls.filter((c) => c.path === '/api/predict/batch');
  t.ok(batch.length > 300 && batch.length < 500, `about 10% batch calls (${batch.length} of 4000)`);
  t.ok(batch.every((c) => c.texts >= 2 && c.texts <= 16 && (JSON.parse(c.body) as { texts: string[] }).texts.length === c.texts));
  t.ok(calls.filter((c) => c.path === '/api/predict').every((c) => tweets.includes((JSON.parse(c.body) as { text: string }).text)));
  t.ok(new Set(calls.map((c) => c.body)).size > 1500, 'random order over the whole set');
  const again = new CallSource(tweets, parseMix('0.1:2-16'), 7);
  t.same(calls.slice(0, 50).map((c) => c.body), Array.from({ length: 50 }, () => again.next().body), 'same seed, same sequence');
});

t.test('server-side means come from the differences of the replicas\' /metrics', async (t) => {
  const scrape = (texts: number, batches: number, wait: number, real: number, padded: number) => [
    `sentiment_batch_size_sum ${texts}`, `sentiment_batch_size_count ${batches}`,
    `sentiment_queue_wait_seconds_sum ${wait}`, `sentiment_queue_wait_seconds_count ${texts}`,
    `sentiment_inference_seconds_sum ${batches * 0.004}`, `sentiment_inference_seconds_count ${batches}`,
    `sentiment_tokens_total{kind="real"} ${real}`, `sentiment_tokens_total{kind="padded"} ${padded}`,
    'sentiment_rejections_total{reason="queue_full"} 0', 'sentiment_rejections_total{reason="aborted"} 7', 'sentiment_batch_size_bucket{le="1"} 3',
  ].join('\n');
  const stats = serverSideStats(parseTotals(scrape(10, 5, 0.01, 100, 120)), parseTotals(scrape(330, 15, 0.33, 3300, 4120)));
  t.equal(stats.meanBatchSize, 32);
  t.equal(stats.meanQueueWaitMs, 1);
  t.equal(Math.round(stats.meanInferenceMs! * 1000) / 1000, 4);
  t.equal(stats.paddingRatio, 1.25);
  t.equal(stats.cacheHitRatio, null);
  t.same(await scrapeTotals(['http://127.0.0.1:9']), parseTotals(''), 'a replica that does not answer counts as zero');
});

t.test('results: ceilings, the targets of the issue, table and chart', async (t) => {
  t.equal(composedCeiling(3000, 13500), 1 / (1 / 3000 + 1 / 13500));
  t.equal(composedCeiling(undefined, 13500), null);
  const results: Results = benchResults({
    service: benchRun(500, 2400, 180), 'batching-off': benchRun(500, 1200, 400), seed: benchRun(500, 300, 2000), noop: benchRun(500, 13500, 60),
  }, 3000);
  const checks = computeChecks(results, 500);
  t.same(checks.map((c) => c.met), [true, true, true, true]);
  t.match(checks[1]!.measured, /2\.00×/);
  t.match(checks[3]!.measured, /0\.98 × C/);
  const md = markdown(results, 'compare.svg');
  t.match(md, /\| Service, batching on, NGINX \+ replicas \| 500 \|/);
  t.match(md, /C = 1 \/ \(1\/R_ort \+ 1\/R_http\)/);
  t.match(md, /!\[chart\]\(compare\.svg\)/);
  const bars = chart(results);
  t.match(bars, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.match(bars, /R_ort: ONNX Runtime alone/);
  const sweep = benchResults({ service: [benchRun(1, 100, 5), benchRun(500, 2400, 180)], 'batching-off': [benchRun(1, 110, 4), benchRun(500, 1200, 400)] });
  const lines = chart(sweep);
  t.match(lines, /<polyline/);
  t.match(lines, /p99 latency/);
  t.ok(Math.abs(threeStageCeiling(3000, 13500, 90000)! - 1 / (1 / 3000 + 1 / 13500 + 1 / 90000)) < 1e-9);
  t.equal(threeStageCeiling(3000, 13500, undefined), null);
  results.ceilings.tok = { tweetsPerSecond: 90000, threads: 2, seconds: 10, tokensPerTweet: 30 };
  results.ceilings.composed3 = threeStageCeiling(3000, 13500, 90000);
  t.match(markdown(results, 'compare.svg'), /C3 = 1 \/ \(1\/R_ort \+ 1\/R_http \+ 1\/R_tok\) = \*\*2,389 texts\/s\*\*; the service \(c=500\) is at 1\.00 × C3 and 0\.98 × C/);
  t.equal(singleLatencyCheck(results), undefined, 'no latency check without a run at 1 connection and a raw single inference');
  const lone = benchResults({ service: [benchRun(1, 100, 12)] });
  lone.ceilings.single = { p50Ms: 1.6, p99Ms: 2.1, threads: 1, seconds: 10, command: [] };
  const latency = singleLatencyCheck(lone)!;
  t.equal(latency.met, false, `p50 ${lone.systems[0]!.runs[0]!.latency.p50} ms is more than 0.5 ms over 1.6 ms`);
  t.match(latency.measured, /p50 3\.000 ms vs raw 1\.600 ms \(\+1\.400 ms;.*the worker's own time per text \(tokenizing and ONNX Runtime\) 4\.000 ms/);
  lone.ceilings.single.p50Ms = lone.systems[0]!.runs[0]!.latency.p50 - 0.4;
  t.equal(singleLatencyCheck(lone)!.met, true, 'within 0.5 ms');
  lone.ceilings.single.p50Ms = lone.systems[0]!.runs[0]!.latency.p50 - 0.6;
  t.equal(singleLatencyCheck(lone)!.met, false, '0.6 ms over');
  t.match(markdown(lone, 'sweep.svg'), /One raw inference of one text \(ONNX Runtime alone, batch 1/);
  t.notMatch(singleLatencyCheck(lone)!.measured, /pause/, 'no paused figure when none was measured');
  lone.ceilings.single.paused = { pauseMs: 1, p50Ms: 2.25, p99Ms: 3, command: [] };
  t.equal(singleLatencyCheck(lone)!.met, false, 'the paused figure is for reference: the target stays against the back-to-back one');
  t.match(singleLatencyCheck(lone)!.measured, /raw with a 1 ms pause before each run 2\.250 ms/);
  t.match(markdown(lone, 'sweep.svg'), /The same with a 1 ms pause before each run .*: p50 2\.25 ms, p99 3\.00 ms/);
  t.same(lastJsonObject('warming up\n{\n  "tweetsPerSecond": 3100,\n  "batchLatencyMs": { "p50": 9 }\n}\n'), { tweetsPerSecond: 3100, batchLatencyMs: { p50: 9 } });
});

t.test('the target against the transformers.js peer: 2× and ½ p99 on a small model, 1.3× and a lower p99 on a heavy one', async (t) => {
  const peerCheck = (service: [number, number], peer: [number, number], target?: { ratio: number; p99Factor: number }) => {
    const results = benchResults({ service: benchRun(500, ...service), transformersjs: benchRun(500, ...peer) });
    return computeChecks(results, 500, target).find((c) => /transformers\.js/.test(c.name))!;
  };
  t.equal(peerCheck([6000, 90], [3000, 180]).met, true, 'small model (default): 2×, p99 halved');
  t.equal(peerCheck([6000, 100], [3000, 180]).met, false, 'small model: p99 not halved');
  t.equal(peerCheck([5000, 90], [3000, 180]).met, false, 'small model: 1.67×');
  t.equal(peerCheck([65, 900], [50, 1000], PEER_TARGETS.heavy).met, true, 'heavy model: 1.3×, lower p99');
  t.equal(peerCheck([65, 1000], [50, 1000], PEER_TARGETS.heavy).met, false, 'heavy model: same p99');
  t.match(peerCheck([65, 900], [50, 1000], PEER_TARGETS.heavy).measured, /1\.30× \(65 vs 50 texts\/s\)/);
  t.notOk(computeChecks(benchResults({ service: benchRun(500, 100, 10) }), 500).some((c) => /transformers\.js/.test(c.name)), 'no check when the peer did not run');
});

t.test('--accept-encoding: every call sends it, so that a compressing service compresses; single texts only', async (t) => {
  const service = await startTestService();
  t.teardown(() => service.close());
  const texts = loadTweets();
  const load = { url: service.url, connections: 4, durationS: 1, texts, labels: modelLabels(FIXTURE_MODEL), progress: false, acceptEncoding: 'gzip, br' };
  const single = await runLoad({ ...load, mix: parseMix('0') });
  // Every 2xx body checks: under the threshold, a single prediction comes back plain.
  t.ok(single.okPerSecond > 0 && single.invalid === 0, `single texts: ${single.requests} answers, none unreadable (under the threshold, sent plain)`);
  const batches = await runLoad({ ...load, mix: parseMix('1:32') });
  t.equal(batches.invalid, batches.requests, 'batches of 32 come back compressed, which autocannon cannot read: the header was sent');
  await t.rejects(main(['compare', '--model', FIXTURE_MODEL, '--accept-encoding', 'gzip', '--mix', '0.1']), /single texts only/, 'the harness refuses it with batch calls');
});

t.test('one connection: one request at a time, timed to the microsecond, every body checked, failures counted', async (t) => {
  t.same([percentile([1, 2, 3, 4], 50), percentile([1, 2, 3, 4], 99), percentile([5], 90)], [3, 4, 5], 'the value at index ⌊p × n / 100⌋');
  t.ok(Number.isNaN(percentile([], 50)), 'of no values: NaN');
  const service = await startTestService();
  t.teardown(() => service.close());
  const load = { url: service.url, connections: 1, durationS: 1, texts: loadTweets(), labels: modelLabels(FIXTURE_MODEL), progress: false, mix: parseMix('0.2:2-4') };
  const stats = await runLoad(load);
  const { mean, p50, p90, p99, max } = stats.latency;
  t.ok(stats.requests > 20, `${stats.requests} requests in ${stats.durationS.toFixed(2)} s`);
  t.same([stats.errors, stats.timeouts, stats.non2xx, stats.invalid], [0, 0, 0, 0], 'every answer a valid 2xx');
  t.equal(stats.statusCodes['200'], stats.requests);
  t.ok(stats.textsPerSecond > stats.okPerSecond, 'the batch calls count their texts');
  t.ok(p50 > 0 && p50 <= p90 && p90 <= p99 && p99 <= max && mean > 0, `p50 ${p50} ≤ p90 ${p90} ≤ p99 ${p99} ≤ max ${max} ms`);
  t.ok([mean, p50, p90, p99].some((ms) => !Number.isInteger(ms)), 'fractions of a millisecond, not autocannon\'s whole milliseconds');
  t.ok(stats.requests / stats.durationS > 1000 / (mean + 5), 'one request at a time: the rate follows from the latency');
  const refused = await runLoad({ ...load, url: 'http://127.0.0.1:1', durationS: 0.3 });
  t.ok(refused.errors > 0 && refused.requests === 0 && refused.latency.p50 === 0, `a refused connection counts errors (${refused.errors}), not answers`);
});

t.test('500 connections for 5 s through NGINX to 2 replicas, 30% of the calls as TEI, V2 and HF task calls: no errors, no non-2xx, every body valid', async (t) => {
  const sizing: Sizing = {
    cores: 2, replicas: 2, workers: 1, intraOpThreads: 1, serviceEnv: {}, seedWorkers: 2, seedThreads: 4, torchThreads: 1,
  };
  let system: RunningSystem | undefined;
  t.teardown(() => system?.stop());
  system = await startSystem('service', { model: FIXTURE_MODEL, seedModel: FIXTURE_MODEL, sizing });
  t.equal(system.metricsUrls.length, 2, 'two replicas behind NGINX');
  const before = await scrapeTotals(system.metricsUrls);
  const stats = await runLoad({
    url: system.url, connections: 500, durationS: 5, texts: loadTweets(), mix: parseMix('0.1:2-16'),
    labels: modelLabels(FIXTURE_MODEL), name: 'ci', progress: false, protocolShare: 0.3,
  });
  const server = serverSideStats(before, await scrapeTotals(system.metricsUrls));
  t.comment(`${stats.requests} requests, ${Math.round(stats.textsPerSecond)} texts/s, p99 ${stats.latency.p99} ms, mean batch ${server.meanBatchSize?.toFixed(1)} (not a measurement: CI machines vary)`);
  t.ok(stats.requests > 500, `every connection was served (${stats.requests} responses)`);
  t.equal(stats.errors, 0, 'no connection errors');
  t.equal(stats.timeouts, 0, 'no timeouts');
  t.equal(stats.non2xx, 0, `no non-2xx (${JSON.stringify(stats.statusCodes)}; ${stats.problems.join(' | ')})`);
  t.equal(stats.invalid, 0, `every body is a valid prediction (${stats.problems.join(' | ')})`);
  for (const kind of ['tei', 'v2', 'hf'] as const) {
    t.ok(stats.validByKind![kind] > stats.requests * 0.05, `${stats.validByKind![kind]} valid ${kind} answers of ${stats.requests}`);
  }
  t.equal(server.rejections, 0, `the replicas refused or dropped no text (${server.aborted} dropped because autocannon closed its connections at the end)`);
  t.ok((server.meanBatchSize ?? 0) > 1, 'under load the replicas batched');
});
