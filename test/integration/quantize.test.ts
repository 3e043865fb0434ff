// The int8 quantizer (quantize/) on the tiny fixtures, copied at test time into the layouts a user has:
// the file it writes, what ONNX Runtime makes of it (its fused int8 kernels), its agreement with fp32 on
// real tweets, the service serving it with MODEL_DTYPE=q8, and the command line.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import t, { type Test } from 'tap';
import { quantize } from '../../quantize/command.js';
import { readModel } from '../../quantize/onnx-model.js';
import { quantizeWeight, transpose } from '../../quantize/weights.js';
import { VALIDATION, validationTexts } from '../helpers/data.js';
import { FIXTURES, getJson, postJson, startTestService } from '../helpers/service.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const SHIPPED = join(ROOT, 'models', 'twitter-sentiment');

/** A copy of a model folder's files, with its model.onnx at `onnxFile` (model.onnx or onnx/model.onnx). */
function copyModel(t: Test, from: string, onnxFile: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'quantize-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const name of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
    if (existsSync(join(from, name))) copyFileSync(join(from, name), join(dir, name));
  }
  mkdirSync(join(dir, onnxFile, '..'), { recursive: true });
  copyFileSync(join(from, 'model.onnx'), join(dir, onnxFile));
  return dir;
}

/** The operator types of the graph ONNX Runtime runs for `onnx`, after its optimizations. */
async function optimizedOps(t: Test, onnx: string): Promise<string[]> {
  const optimized = join(mkdtempSync(join(tmpdir(), 'quantize-optimized-')), 'optimized.onnx');
  t.teardown(() => rmSync(join(optimized, '..'), { recursive: true, force: true }));
  const session = await ort.InferenceSession.create(onnx, { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized, logSeverityLevel: 3 });
  await session.release();
  return (readModel(optimized).graph?.node ?? []).map((node) => node.op_type ?? '');
}

t.test('weights: s8 7-bit per column, zero kept exact, each value within half a step', async (t) => {
  // Column 0 spans ±2, column 1 ±0.1, column 2 is zero: per-column scales keep column 1's precision.
  const values = Float32Array.from([2, 0.1, 0, -1, -0.1, 0, 0.5, 0.05, 0]);
  const q = quantizeWeight(values, 3, 3, { type: 's8', perChannel: true, reduceRange: true });
  t.same(Array.from(q.scale), [2 / 63, 0.1 / 63, 1].map(Math.fround));
  t.same(Array.from(q.zeroPoint), [0, 0, 0]);
  t.ok(q.data instanceof Int8Array && q.data.every((v) => Math.abs(v) <= 63), '7 bits: within ±63');
  values.forEach((v, i) => t.ok(Math.abs(q.data[i]! * q.scale[i % 3]! - v) <= q.scale[i % 3]! / 2 + 1e-9, `value ${i} within half a step`));
  t.equal(q.data[2], 0, 'a zero column stays zero');

  const full = quantizeWeight(values, 3, 3, { type: 's8', perChannel: false, reduceRange: false });
  t.same(Array.from(full.scale), [Math.fround(2 / 127)], 'one scale for the matrix');
  t.equal(full.data[0], 127);

  const u8 = quantizeWeight(Float32Array.from([0.5, 1.5, -0.5, 0.25]), 2, 2, { type: 'u8', perChannel: true, reduceRange: false });
  t.ok(u8.data instanceof Uint8Array);
  t.same(Array.from(u8.zeroPoint), [Math.round(0.5 / Math.fround(1 / 255)), 0], 'u8: asymmetric, zero point where 0.0 lands');
  t.same(Array.from(transpose(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 3)), [1, 4, 2, 5, 3, 6]);
});

t.test('bert-tiny in the onnx/ layout: onnx/model_quantized.onnx, fused into ONNX Runtime\'s int8 kernels, the same labels as fp32 on 500 tweets', async (t) => {
  const dir = copyModel(t, join(FIXTURES, 'bert-tiny'), 'onnx/model.onnx');
  const result = await quantize({ model: dir, checkTexts: VALIDATION, checkLimit: 500 });
  t.equal(result.source, 'onnx/model.onnx');
  t.equal(result.output, 'onnx/model_quantized.onnx');
  t.same(readdirSync(join(dir, 'onnx')).sort(), ['model.onnx', 'model_quantized.onnx'], 'no partial file left beside it');
  t.equal(result.summary.quantized, 2, 'both MatMul weights');

  const ops = readModel(join(dir, 'onnx/model_quantized.onnx')).graph!.node!.map((node) => node.op_type);
  t.notOk(ops.includes('MatMul'), 'no float MatMul left');
  t.equal(ops.filter((op) => op === 'MatMulInteger').length, 2);
  const fused = await optimizedOps(t, join(dir, 'onnx/model_quantized.onnx'));
  t.equal(fused.filter((op) => op === 'DynamicQuantizeMatMul').length, 2, `ONNX Runtime runs DynamicQuantizeMatMul: ${fused.join(', ')}`);
  t.notOk(fused.includes('MatMulInteger') || fused.includes('DynamicQuantizeLinear'), 'nothing of the pattern left unfused');

  const check = result.check!;
  t.equal(check.count, 500);
  t.equal(check.labelAgreement, 1, 'every label as fp32\'s');
  t.ok(check.maxProbDiff > 0 && check.maxProbDiff < 0.05, `largest probability difference ${check.maxProbDiff.toFixed(4)}`);
});

t.test('the shipped model (Gemm heads with transB) at the top of its folder: model_quantized.onnx beside model.onnx', async (t) => {
  const dir = copyModel(t, SHIPPED, 'model.onnx');
  const result = await quantize({ model: dir, checkTexts: VALIDATION, checkLimit: 300 });
  t.equal(result.output, 'model_quantized.onnx');
  const gemms = readModel(join(dir, 'model.onnx')).graph!.node!.filter((node) => node.op_type === 'Gemm').length;
  t.ok(gemms > 0 && result.summary.quantized === gemms, `its ${gemms} Gemm heads`);
  t.notOk(readModel(join(dir, 'model_quantized.onnx')).graph!.node!.some((node) => node.op_type === 'Gemm'), 'no float Gemm left');
  t.ok(result.check!.labelAgreement >= 0.99, `labels agree on ${(result.check!.labelAgreement * 100).toFixed(1)}%`);
  const fused = await optimizedOps(t, join(dir, 'model_quantized.onnx'));
  t.ok(fused.includes('DynamicQuantizeMatMul') || fused.includes('MatMulIntegerToFloat'), 'fused');
});

t.test('the service serves the int8 file with MODEL_DTYPE=q8 and says so; its labels are fp32\'s', async (t) => {
  const dir = copyModel(t, join(FIXTURES, 'bert-tiny'), 'onnx/model.onnx');
  await quantize({ model: dir, checkTexts: null });
  const texts = validationTexts().slice(0, 20);
  const labelsOf = async (env: Record<string, string>) => {
    const service = await startTestService({ MODEL_PATH: dir, ...env });
    try {
      const model = await getJson(`${service.url}/api/model`);
      const info = await getJson(`${service.url}/info`);
      const v2 = await getJson(`${service.url}/v2/models/sentiment`);
      const batch = await postJson(`${service.url}/api/predict/batch`, { texts });
      t.equal(batch.status, 200);
      return { model: model.body, teiDtype: info.body.model_dtype, v2Dtype: v2.body.properties.dtype, labels: batch.body.predictions.map((p: { label: string }) => p.label) };
    } finally {
      await service.close();
    }
  };
  const fp32 = await labelsOf({});
  const q8 = await labelsOf({ MODEL_DTYPE: 'q8' });
  t.match(fp32, { model: { file: 'onnx/model.onnx', dtype: 'fp32' }, teiDtype: 'float32', v2Dtype: 'fp32' });
  t.match(q8, { model: { file: 'onnx/model_quantized.onnx', dtype: 'q8' }, teiDtype: 'q8', v2Dtype: 'q8' });
  t.not(q8.model.sha256, fp32.model.sha256, 'another file, another version');
  t.same(q8.labels, fp32.labels);
});

t.test('tweet-sentiment quantize: writes and reports; usage errors exit 2, failures 1 with one line', async (t) => {
  const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'quantize', ...args], { encoding: 'utf8' });
  const dir = copyModel(t, join(FIXTURES, 'bert-tiny'), 'model.onnx');
  const ok = cli([dir, '--texts', VALIDATION, '--limit', '50', '--json']);
  t.equal(ok.status, 0, ok.stderr);
  const result = JSON.parse(ok.stdout) as { output: string; check: { count: number } };
  t.equal(result.output, 'model_quantized.onnx');
  t.equal(result.check.count, 50);
  t.match(ok.stderr, /^model_quantized\.onnx: 2 MatMul\/Gemm weights to s8 \(7-bit\), one scale per output column; .*\nagainst model\.onnx on 50 texts of .*: largest probability difference 0\.\d{4}, labels agree on \d+\.\d\d% \(\d+ differ\)\nserve it with MODEL_DTYPE=q8\n$/);

  const usage = cli([]);
  t.equal(usage.status, 2);
  t.match(usage.stderr, /^missing the model directory\n\nusage: tweet-sentiment quantize DIR/);
  t.equal(cli([dir, '--weights', 'int4']).status, 2);
  const unknown = cli([dir, '--bogus']);
  t.equal(unknown.status, 2, 'an unknown flag');
  t.match(unknown.stderr, /^Unknown option '--bogus'.*\n\nusage: tweet-sentiment quantize DIR/s);
  t.equal(cli([dir, '--no-check', '--texts', VALIDATION]).status, 2);
  t.match(cli(['--help']).stdout, /^usage: tweet-sentiment quantize DIR/);

  const empty = mkdtempSync(join(tmpdir(), 'quantize-empty-'));
  t.teardown(() => rmSync(empty, { recursive: true, force: true }));
  const missing = cli([empty, '--no-check']);
  t.equal(missing.status, 1);
  t.equal(missing.stderr, `tweet-sentiment quantize: no fp32 model in ${empty}: quantize reads model.onnx at its top or in its onnx/ folder\n`);
  const noTexts = cli([dir, '--texts', join(empty, 'none.jsonl')]);
  t.equal(noTexts.status, 1);
  t.match(noTexts.stderr, /^tweet-sentiment quantize: ENOENT/);
});
