// The GPU tooling that runs without a GPU and without Python: the logit parity tool, the raw ONNX Runtime
// loop, the service load step, the report that the device run writes, the dependency closure that the
// device pack carries, and the device script's refusal to run without its pack. (tools/make-bench-model.py
// and tools/convert-fp16.py need torch/onnx and run in the GPU session and the dry run, not in CI.)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { dependencyClosure, keepFile } from '../../bench/gpu/closure.js';
import { assembleReport, computeChecks, renderMarkdown, reportStem, writeReport, type GpuReport } from '../../bench/gpu/gpu-report.js';
import { fixedBatch, ortLoop, tweetBatches, type LoopResult } from '../../bench/gpu/ort-loop.js';
import { serviceLoad, waitReady, type ServiceLoadResult } from '../../bench/gpu/service-load.js';
import { compareLogits, readTexts } from '../../tools/compare-logits.js';
import { FIXTURES, startTestService } from '../helpers/service.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const BERT = `${FIXTURES}bert-tiny`;
const SLOW = `${FIXTURES}slow-tiny`;
const TEXTS = [
  'I love this new phone, the camera is amazing!',
  'Worst customer service ever. Never again.',
  'The meeting moved to 3pm on Thursday.',
  'ok',
  'Not bad at all, though the battery could last longer and the screen is a bit dim in sunlight.',
  '@user going to the game tonight?? #excited',
  '',
  'Ünïcödé and emoji 🎉🎉 and CJK 你好',
].filter((text) => text !== '');

function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'gpu-tools-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('compare-logits: a model against itself differs by exactly 0, and padding does not change its logits', async (t) => {
  const result = await compareLogits({ a: BERT, b: `${BERT}/model.onnx`, texts: TEXTS, batchSize: 3, threads: 1, paddingCheck: TEXTS.length });
  t.equal(result.texts, TEXTS.length);
  t.same(result.labels, ['negative', 'neutral', 'positive']);
  t.equal(result.maxAbsDiff, 0);
  t.equal(result.meanAbsDiff, 0);
  t.equal(result.maxProbDiff, 0);
  t.equal(result.labelAgreement, 1);
  t.ok(result.a.paddingMaxAbsDiff !== null && result.a.paddingMaxAbsDiff < 1e-4, `padded batch vs alone: ${result.a.paddingMaxAbsDiff}`);
  t.equal(result.a.onnx, `${BERT}/model.onnx`);
  t.same(result.a.providers, ['cpu']);
});

t.test('compare-logits: different weights give a non-zero difference, located on a real text', async (t) => {
  const result = await compareLogits({ a: BERT, b: SLOW, texts: TEXTS, batchSize: 4, threads: 1 });
  t.ok(result.maxAbsDiff > 1e-3, `max diff ${result.maxAbsDiff}`);
  t.ok(result.meanAbsDiff > 0 && result.meanAbsDiff <= result.maxAbsDiff);
  t.ok(result.labelAgreement >= 0 && result.labelAgreement <= 1);
  t.ok(result.worst !== null && TEXTS.includes(result.worst.text), 'the worst text is one of the inputs');
  const worstDiff = Math.max(...result.worst!.a.map((x, k) => Math.abs(x - result.worst!.b[k]!)));
  t.ok(Math.abs(worstDiff - result.maxAbsDiff) < 1e-6, 'the worst row carries the max difference');
  t.equal(result.a.paddingMaxAbsDiff, null, 'no padding check unless asked');
});

t.test('compare-logits: missing model_fp16.onnx is a clear error', async (t) => {
  await t.rejects(compareLogits({ a: BERT, texts: TEXTS }), /model_fp16\.onnx not found/);
  await t.rejects(compareLogits({ a: BERT, b: BERT, texts: [] }), /no texts/);
});

t.test('compare-logits CLI: JSON on stdout, exit 2 above --max-diff, 0 within it', { timeout: 120_000 }, async (t) => {
  const dir = scratch(t);
  const texts = join(dir, 'texts.jsonl');
  writeFileSync(texts, TEXTS.map((text) => JSON.stringify({ text, label: 1 })).join('\n'));
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'tools/compare-logits.ts', '--texts', texts, '--threads', '1', ...args], { cwd: ROOT, encoding: 'utf8' });
  const same = run('--a', BERT, '--b', BERT, '--json', '--max-diff', '0');
  t.equal(same.status, 0, same.stderr);
  t.equal(JSON.parse(same.stdout.trim()).maxAbsDiff, 0);
  t.match(same.stderr, /max \|a - b\| logit 0/);
  const different = run('--a', BERT, '--b', SLOW, '--max-diff', '0.000001');
  t.equal(different.status, 2, different.stderr);
  t.match(different.stderr, /above --max-diff/);
  const usage = run();
  t.equal(usage.status, 1);
  t.match(usage.stderr, /usage: compare-logits/);
});

t.test('readTexts reads JSONL texts or plain lines, up to a limit', async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'a.jsonl'), '{"text": "one", "label": 0}\n{"text": "two"}\n\n{"text": ""}\n{"text": "three"}\n');
  writeFileSync(join(dir, 'b.txt'), 'first line\nsecond line\n');
  t.same(readTexts(join(dir, 'a.jsonl')), ['one', 'two', 'three']);
  t.same(readTexts(join(dir, 'a.jsonl'), 2), ['one', 'two']);
  t.same(readTexts(join(dir, 'b.txt')), ['first line', 'second line']);
});

t.test('ort-loop batches: fixed rows are exact, tweet batches are laid out as the service lays them out (padded to a multiple of 8 with a mask)', async (t) => {
  const fixed = fixedBatch(3, 10, 1000, 101, 102, true);
  t.same(fixed.feeds.input_ids!.dims, [3, 10]);
  const ids = fixed.feeds.input_ids!.data as BigInt64Array;
  t.equal(ids[0], 101n);
  t.equal(ids[9], 102n);
  t.ok(Array.from(ids).every((id) => id >= 0n && id < 1000n));
  t.ok((fixed.feeds.attention_mask!.data as BigInt64Array).every((m) => m === 1n));
  t.ok(fixed.feeds.token_type_ids, 'token_type_ids when the model takes them');

  const tweets = [[0, 5, 2], [0, 5, 6, 7, 8, 9, 10, 11, 12, 2], [0, 2], [0, 9, 2]];
  const batches = tweetBatches(tweets, 3, 1, false, 128);
  t.equal(batches.length, 1, 'only whole batches (the last partial one is dropped once a whole one exists)');
  const [batch] = batches;
  t.equal(batch!.rows, 3);
  t.equal(batch!.length, 16, '10 tokens pad to 16');
  t.equal(batch!.realTokens, 15);
  const mask = batch!.feeds.attention_mask!.data as BigInt64Array;
  t.equal(mask.reduce((a, b) => a + b, 0n), 15n);
  t.equal((batch!.feeds.input_ids!.data as BigInt64Array)[3], 1n, 'padding uses the pad id');
  t.notOk(batch!.feeds.token_type_ids);
  const runs = tweetBatches(tweets, 3, 1, false, 128, 2);
  t.same(runs.map((run) => [run.rows, run.length]), [[2, 8], [1, 16]], 'cut into runs as a worker cuts its batch: sorted by length, at most runRows texts');
});

t.test('ort-loop: one session measures fixed-length and tweet batches', async (t) => {
  const lines: string[] = [];
  const result: LoopResult = await ortLoop({
    model: BERT, device: 'cpu', threads: 1, seconds: 0.1, warmupRuns: 1, seq: 16, batches: [1, 4], texts: TEXTS, textBatch: 4,
  }, (line) => lines.push(line));
  t.equal(result.onnx, `${BERT}/model.onnx`);
  t.equal(result.device, 'cpu');
  t.same(result.runs.map((r) => [r.kind, r.batch]), [['fixed', 1], ['fixed', 4], ['tweets', 4]]);
  for (const run of result.runs) {
    t.ok(run.runs >= 3 && run.seqPerSec > 0, `${run.kind} ${run.batch}: ${run.seqPerSec} seq/s over ${run.runs} runs`);
    t.ok(run.batchMs.p50 > 0 && run.batchMs.p50 <= run.batchMs.p99);
  }
  t.equal(result.runs[0]!.seq, 16);
  t.equal(result.runs[2]!.seq % 8, 0, 'tweet batches run padded to a multiple of 8');
  t.ok(result.runs[2]!.realSeq <= result.runs[2]!.seq);
  t.equal(lines.length, 3, 'one progress line per run');
});

t.test('service-load: waits for readiness, then drives the service at each connection count', { timeout: 120_000 }, async (t) => {
  const server = await startTestService({ CACHE_SIZE: '0' });
  t.teardown(() => server.close());
  const result: ServiceLoadResult = await serviceLoad({
    url: server.url, label: 'test', connections: [1, 8], seconds: 1, warmupSeconds: 0, texts: TEXTS, readyTimeoutS: 10, progress: false,
  });
  t.equal(result.model?.file, 'model.onnx');
  t.equal(result.model?.device, 'cpu');
  t.same(result.levels.map((l) => l.connections), [1, 8]);
  for (const level of result.levels) {
    t.ok(level.okPerSecond > 0, `c=${level.connections}: ${level.okPerSecond} ok/s`);
    t.equal(level.non2xx, 0);
    t.equal(level.invalid, 0, 'every answer is a valid prediction');
    t.ok(level.server.batches > 0 && (level.server.meanBatchSize ?? 0) >= 1, `mean batch ${level.server.meanBatchSize}`);
  }
  await t.rejects(waitReady('http://127.0.0.1:9', 0.3, 50), /did not answer 200 within 0.3 s/);
});

function loopResult(onnx: string, tweetsSeqPerSec: number): LoopResult {
  const run = (kind: 'fixed' | 'tweets', batch: number, seqPerSec: number) => ({
    kind, batch, seq: 64, realSeq: kind === 'tweets' ? 30 : 64, runs: 10, seconds: 4, seqPerSec, batchMs: { p50: 10, p90: 11, p99: 12, mean: 10 },
  });
  return { onnx, device: 'webgpu', threads: 16, sessionMs: 900, firstRunMs: 50, runs: [run('fixed', 1, 150), run('fixed', 128, 1700), run('tweets', 128, tweetsSeqPerSec)] };
}

function serviceResult(label: string, file: string, levels: Array<[number, number]>): ServiceLoadResult {
  return {
    label, url: 'http://127.0.0.1:5055', model: { file, device: 'webgpu' }, readyAfterS: 12,
    levels: levels.map(([connections, okPerSecond]) => ({
      connections, durationS: 10, requests: okPerSecond * 10, requestsPerSecond: okPerSecond, okPerSecond, textsPerSecond: okPerSecond,
      latency: { mean: 5, p50: 4, p90: 8, p99: 20, max: 40 }, errors: 0, timeouts: 0, non2xx: 0, statusCodes: { 200: okPerSecond * 10 },
      invalid: 0, problems: [],
      server: { meanBatchSize: connections === 1 ? 1 : 100, meanQueueWaitMs: 2, meanInferenceMs: 30, meanTextsPerTokenizeTask: 4, meanTextsPerRun: 8, meanTokenizeMs: 0.5, paddingRatio: 1.5, batches: 100, rejections: 0, aborted: 0, cacheHitRatio: null },
    })),
  };
}

t.test('gpu-report: checks the GPU targets against the same precision', async (t) => {
  const raw = { fp32: loopResult('/m/model.onnx', 1000), fp16: loopResult('/m/model_fp16.onnx', 2000) };
  const passing = computeChecks({ raw, service: {
    fp16: serviceResult('fp16', 'model_fp16.onnx', [[1, 100], [100, 1500], [500, 1800]]),
    fp32: null,
    batchingOff: serviceResult('batching-off', 'model_fp16.onnx', [[500, 200]]),
  } });
  t.equal(passing.length, 2);
  t.equal(passing[0]!.value, 0.9, '1800 / 2000 (fp16 raw, tweets batch 128)');
  t.equal(passing[0]!.pass, true);
  t.match(passing[0]!.detail, /model_fp16\.onnx/);
  t.equal(passing[1]!.value, 9);
  t.equal(passing[1]!.pass, true);

  // fp16 conversion failed: the main run served fp32 and is held against the fp32 ceiling.
  const fp32Only = computeChecks({ raw: { fp32: raw.fp32, fp16: null }, service: {
    fp16: null, fp32: serviceResult('fp32', 'model.onnx', [[500, 800]]), batchingOff: serviceResult('batching-off', 'model.onnx', [[500, 200]]),
  } });
  t.equal(fp32Only[0]!.value, 0.8);
  t.equal(fp32Only[0]!.pass, false);
  t.equal(fp32Only[1]!.value, 4);
  t.equal(fp32Only[1]!.pass, false);

  const nothing = computeChecks({ raw: { fp32: null, fp16: null }, service: { fp16: null, fp32: null, batchingOff: null } });
  t.same(nothing.map((c) => [c.value, c.pass, c.detail]), [[null, null, 'not measured'], [null, null, 'not measured']]);
});

t.test('gpu-report: assembles a results folder into gpu-<device>-<date>.json and .md, whatever is missing', async (t) => {
  const dir = scratch(t);
  const results = join(dir, 'results');
  const out = join(dir, 'out');
  mkdirSync(results);
  const env = { deviceName: 'nvidia-h100', gpu: 'NVIDIA H100 80GB HBM3', driver: '580.159.04', provider: 'webgpu', dryRun: false, date: '2026-11-30', git: 'abc1234', node: 'v20.20.2', onnxruntime: '1.30.0' };
  writeFileSync(join(results, 'env.json'), JSON.stringify(env));
  writeFileSync(join(results, 'model.json'), JSON.stringify({ parameters: 124_647_939, seed: 1, implementation: 'transformers', exporter: 'torchscript', torch: '2.11.0', opset: 17 }));
  // A step's file holds progress before its JSON line: the last line counts.
  writeFileSync(join(results, 'ort-fp16.json'), `progress line\n${JSON.stringify(loopResult('/m/model_fp16.onnx', 2000))}\n`);
  writeFileSync(join(results, 'service-fp16.json'), JSON.stringify(serviceResult('fp16', 'model_fp16.onnx', [[1, 90], [100, 1500], [500, 1900]])));
  writeFileSync(join(results, 'service-batching-off.json'), ''); // a step that failed before printing
  writeFileSync(join(results, 'parity.json'), JSON.stringify({ texts: 256, device: 'webgpu', maxAbsDiff: 0.0123, meanAbsDiff: 0.002, maxProbDiff: 0.003, labelAgreement: 0.996, a: { paddingMaxAbsDiff: 1e-6 }, b: { paddingMaxAbsDiff: 2e-3 } }));
  writeFileSync(join(results, 'steps.jsonl'), '{"name":"unpack","rc":0,"seconds":3.5}\n{"name":"service-batching-off","rc":124,"seconds":240}\nnot json\n');

  const report: GpuReport = assembleReport(results);
  t.equal(report.raw.fp32, null);
  t.equal(report.service.batchingOff, null, 'an empty step file is no result');
  t.equal(report.raw.fp16?.runs.length, 3);
  t.same(report.steps.map((s) => [s.name, s.rc]), [['unpack', 0], ['service-batching-off', 124]]);
  t.equal(report.checks[0]!.value, 0.95);
  t.equal(report.checks[1]!.pass, null);

  const files = writeReport(report, out);
  t.equal(files.json, join(out, 'gpu-nvidia-h100-2026-11-30.json'));
  t.equal(files.md, join(out, 'gpu-nvidia-h100-2026-11-30.md'));
  t.same(JSON.parse(readFileSync(files.json, 'utf8')), JSON.parse(JSON.stringify(report)), 'the JSON is the report');
  const md = readFileSync(files.md, 'utf8');
  t.match(md, /^# GPU benchmark: NVIDIA H100 80GB HBM3 \(nvidia-h100\), 2026-11-30/);
  t.match(md, /\| fp16 \| validation tweets \| 128 \| 64\.0 \| 30\.0 \| 2000\.0 \|/);
  t.match(md, /\| fp32 \| not measured \|/);
  t.match(md, /\| fp16 \| model_fp16\.onnx \| 500 \| 1900\.0 \| 4\.0 \| 20\.0 \| 0 \| 0 \| 100\.0 \|/);
  t.match(md, /max \|fp16 − fp32\| logit 0\.0123/);
  t.match(md, /\| service at 500 connections ≥ 0\.85 × raw batched ONNX Runtime \| 0\.95 \| yes \|/);
  t.match(md, /\| batching on ≥ 8 × batching off .* \| – \| not measured \|/);
  t.notMatch(md, /Dry run/);
  t.match(renderMarkdown({ ...report, environment: { ...report.environment, dryRun: true } }), /\*\*Dry run\*\*/);
});

t.test('gpu-report: file names are safe whatever nvidia-smi says', async (t) => {
  t.equal(reportStem({ deviceName: 'NVIDIA H200', date: '2026-11-30' }), 'gpu-nvidia-h200-2026-11-30');
  t.equal(reportStem({ deviceName: '../../etc', date: '2026/11/30' }), 'gpu-..-..-etc-2026-11-30');
  t.equal(reportStem({ deviceName: '', date: '' }), 'gpu-unknown-unknown');
});

t.test('closure: the device pack carries the production dependencies and autocannon, not the dev tools', async (t) => {
  const packages = dependencyClosure(ROOT, ['autocannon']);
  for (const needed of ['node_modules/onnxruntime-node', 'node_modules/onnxruntime-common', 'node_modules/fastify', 'node_modules/piscina',
    'node_modules/@huggingface/tokenizers', 'node_modules/autocannon', 'node_modules/hdr-histogram-js']) {
    t.ok(packages.includes(needed), `${needed} is packed`);
  }
  for (const devOnly of ['node_modules/typescript', 'node_modules/tap', 'node_modules/tsx', 'node_modules/esbuild']) {
    t.notOk(packages.includes(devOnly), `${devOnly} is not packed`);
  }
  t.same(packages, [...new Set(packages)].sort(), 'sorted, no duplicates');
  t.notOk(dependencyClosure(ROOT).includes('node_modules/autocannon'), 'autocannon only as an extra');
  t.throws(() => dependencyClosure(ROOT, ['surely-not-an-installed-package']), /surely-not-an-installed-package .* not installed/);

  const ort = join(ROOT, 'node_modules/onnxruntime-node');
  t.ok(keepFile(ort, join(ort, 'bin/napi-v6/linux/x64/libonnxruntime.so.1')));
  t.notOk(keepFile(ort, join(ort, 'bin/napi-v6/linux/arm64')));
  t.notOk(keepFile(ort, join(ort, 'bin/napi-v6/darwin')));
  t.ok(keepFile(ort, join(ort, 'dist/index.js')));
  t.notOk(keepFile(ort, join(ort, 'dist/index.js.map')));
  t.notOk(keepFile(ort, join(ort, 'node_modules')), 'nested packages are staged on their own');
});

t.test('run-on-device.sh: both scripts parse, and the device script stops at once without its pack', async (t) => {
  for (const script of ['bench/gpu/run-on-device.sh', 'bench/gpu/pack.sh']) {
    const syntax = spawnSync('bash', ['-n', script], { cwd: ROOT, encoding: 'utf8' });
    t.equal(syntax.status, 0, `${script}: ${syntax.stderr}`);
  }
  const dir = scratch(t);
  const run = spawnSync('bash', ['bench/gpu/run-on-device.sh', '--dry-run'], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, GPU_PACK: join(dir, 'no-pack'), OUT: join(dir, 'out') },
  });
  t.equal(run.status, 1);
  t.match(run.stderr, /runtime\.tar\.xz is missing: run bash bench\/gpu\/pack\.sh/);
});

t.test('variants.sh: parses, asks for its variants, and stops at once without its pack', async (t) => {
  const script = 'bench/gpu/variants.sh';
  t.equal(spawnSync('bash', ['-n', script], { cwd: ROOT, encoding: 'utf8' }).status, 0, `${script} parses`);
  const usage = spawnSync('bash', [script, '--dry-run'], { cwd: ROOT, encoding: 'utf8' });
  t.equal(usage.status, 2);
  t.match(usage.stderr, /usage: bash bench\/gpu\/variants\.sh \[--dry-run\] NAME:KEY=VALUE/);
  const dir = scratch(t);
  const run = spawnSync('bash', [script, '--dry-run', 'default:'], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, GPU_PACK: join(dir, 'no-pack'), OUT: join(dir, 'out') },
  });
  t.equal(run.status, 1);
  t.match(run.stderr, /runtime\.tar\.xz is missing: run bash bench\/gpu\/pack\.sh first/);
});
