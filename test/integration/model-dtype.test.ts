// Both Hugging Face layouts (ONNX files at the top of the model folder, or in onnx/) and MODEL_DTYPE's
// choice of file, on model folders made here from the bert-tiny fixture: each dtype served where its file is,
// refused with the files found where it is not, auto's choice per device, MODEL_PRECISION as the older name,
// and the file names held to transformers.js's own.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ModelRegistry } from '@huggingface/transformers';
import t, { type Test } from 'tap';
import { loadConfig } from '../../core/config.js';
import { loadModelFiles } from '../../inference/model-files.js';
import { DTYPES, onnxFileName } from '../../inference/onnx-files.js';
import { spawnServer } from '../helpers/process.js';
import { FIXTURES } from '../helpers/service.js';

const BERT = join(FIXTURES, 'bert-tiny');
const BERT_CONFIG = JSON.parse(readFileSync(join(BERT, 'config.json'), 'utf8')) as Record<string, unknown>;

/** A model folder with bert-tiny's tokenizer and config (plus `config`), and its model.onnx under each name of `onnx`. */
function modelFolder(t: Test, onnx: string[], config: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'model-dtype-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(join(BERT, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...BERT_CONFIG, ...config }));
  for (const name of onnx) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    copyFileSync(join(BERT, 'model.onnx'), join(dir, name));
  }
  return dir;
}

const served = (dir: string, options: Parameters<typeof loadModelFiles>[1] = {}) => {
  const files = loadModelFiles(dir, { tokenizer: false, ...options });
  return { file: files.onnxPath.slice(dir.length + 1), dtype: files.dtype };
};

t.test('the file of every dtype has the name transformers.js loads for it (onnx/ + model + suffix)', async (t) => {
  for (const dtype of DTYPES) {
    const files = await ModelRegistry.get_model_files('local/bert', { config: { ...BERT_CONFIG, model_type: 'bert' } as never, dtype, device: 'cpu' });
    t.ok(files.includes(`onnx/${onnxFileName(dtype)}`), `${dtype}: transformers.js loads onnx/${onnxFileName(dtype)} (${files.join(', ')})`);
  }
});

t.test('the top-level layout: model.onnx, model_fp16.onnx and model_quantized.onnx beside it', async (t) => {
  const dir = modelFolder(t, ['model.onnx', 'model_fp16.onnx', 'model_quantized.onnx']);
  t.same(served(dir), { file: 'model.onnx', dtype: 'fp32' }, 'auto on a CPU: fp32');
  t.same(served(dir, { device: 'cuda' }), { file: 'model_fp16.onnx', dtype: 'fp16' }, 'auto on a GPU: fp16');
  t.same(served(dir, { dtype: 'q8' }), { file: 'model_quantized.onnx', dtype: 'q8' });
  t.same(served(dir, { dtype: 'fp32', device: 'webgpu' }), { file: 'model.onnx', dtype: 'fp32' }, 'a dtype named wins over the device');
});

t.test('the onnx/ layout of transformers.js and Optimum exports, read unchanged', async (t) => {
  const dir = modelFolder(t, ['onnx/model.onnx', 'onnx/model_fp16.onnx', 'onnx/model_quantized.onnx', 'onnx/model_int8.onnx', 'onnx/model_q4.onnx']);
  t.same(served(dir), { file: 'onnx/model.onnx', dtype: 'fp32' });
  t.same(served(dir, { device: 'cuda' }), { file: 'onnx/model_fp16.onnx', dtype: 'fp16' });
  for (const dtype of ['q8', 'int8', 'q4'] as const) t.same(served(dir, { dtype }), { file: `onnx/${onnxFileName(dtype)}`, dtype });
  const files = loadModelFiles(dir, { dtype: 'q8' });
  t.equal(files.dir, dir, 'the model folder is the one above onnx/');
  t.same(files.labels, ['negative', 'neutral', 'positive'], 'config.json and tokenizer.json are read from the folder');
});

t.test('a file at the top wins over the same dtype in onnx/', async (t) => {
  const dir = modelFolder(t, ['model.onnx', 'onnx/model.onnx', 'onnx/model_quantized.onnx']);
  t.same(served(dir), { file: 'model.onnx', dtype: 'fp32' });
  t.same(served(dir, { dtype: 'q8' }), { file: 'onnx/model_quantized.onnx', dtype: 'q8' });
});

t.test('auto with no fp32 file serves the best file there is for the device', async (t) => {
  const dir = modelFolder(t, ['onnx/model_quantized.onnx', 'onnx/model_fp16.onnx']);
  t.same(served(dir), { file: 'onnx/model_quantized.onnx', dtype: 'q8' }, 'a CPU: int8 before fp16');
  t.same(served(dir, { device: 'cuda' }), { file: 'onnx/model_fp16.onnx', dtype: 'fp16' });
});

t.test('auto follows the dtype config.json asks transformers.js for, per device', async (t) => {
  const dir = modelFolder(t, ['onnx/model.onnx', 'onnx/model_quantized.onnx', 'onnx/model_fp16.onnx'], {
    'transformers.js_config': { dtype: 'fp32', device_config: { cpu: { dtype: 'q8' } } },
  });
  t.same(served(dir), { file: 'onnx/model_quantized.onnx', dtype: 'q8' }, 'device_config.cpu.dtype');
  t.same(served(dir, { device: 'cuda' }), { file: 'onnx/model.onnx', dtype: 'fp32' }, 'transformers.js_config.dtype elsewhere');
  t.same(served(dir, { dtype: 'fp16' }), { file: 'onnx/model_fp16.onnx', dtype: 'fp16' }, 'a dtype named wins over the config');
  const perFile = modelFolder(t, ['model.onnx', 'model_quantized.onnx'], { 'transformers.js_config': { dtype: { model: 'q8' } } });
  t.same(served(perFile), { file: 'model_quantized.onnx', dtype: 'q8' }, 'a per-file dtype: its "model" entry');
  const missing = modelFolder(t, ['model.onnx'], { 'transformers.js_config': { dtype: 'q4' } });
  t.same(served(missing), { file: 'model.onnx', dtype: 'fp32' }, 'a config dtype whose file is not there: the device\'s choice');
});

t.test('a dtype whose file is missing is refused, naming the files found and how to make it', async (t) => {
  const dir = modelFolder(t, ['model.onnx', 'onnx/model_fp16.onnx']);
  t.throws(() => served(dir, { dtype: 'q8' }), {
    name: 'ModelFilesError',
    message: `MODEL_DTYPE=q8 serves model_quantized.onnx (at the top of ${dir} or in its onnx/ folder), which is not there; ` +
      `the ONNX files there: model.onnx (fp32), onnx/model_fp16.onnx (fp16); make it with \`npm run quantize -- ${dir}\``,
  });
  t.throws(() => served(modelFolder(t, ['model.onnx']), { dtype: 'fp16' }), { message: /model_fp16\.onnx .*which is not there; the ONNX files there: model\.onnx \(fp32\); convert model\.onnx with tools\/convert-fp16\.py$/ });
  t.throws(() => served(modelFolder(t, []), { dtype: 'int8' }), { message: /model_int8\.onnx .*which is not there; no ONNX file of any dtype$/ });
  t.throws(() => served(modelFolder(t, [])), { name: 'ModelFilesError', message: /^model\.onnx not found in .* or its onnx\/ folder, nor the file of another dtype \(model_fp16\.onnx, / });
});

t.test('MODEL_PATH may name an ONNX file of either layout; its name says its dtype', async (t) => {
  const dir = modelFolder(t, ['onnx/model.onnx', 'onnx/model_quantized.onnx', 'custom.onnx']);
  const named = loadModelFiles(join(dir, 'onnx/model_quantized.onnx'), { tokenizer: false });
  t.equal(named.dir, dir, 'a file in onnx/ belongs to the folder above');
  t.equal(named.dtype, 'q8');
  t.equal(loadModelFiles(join(dir, 'custom.onnx'), { tokenizer: false }).dtype, 'fp32', 'a name that says no dtype: fp32');
  t.equal(loadModelFiles(join(dir, 'custom.onnx'), { tokenizer: false, dtype: 'int8' }).dtype, 'int8', '... unless MODEL_DTYPE says it');
  t.throws(() => loadModelFiles(join(dir, 'onnx/model.onnx'), { dtype: 'q8' }), {
    message: 'MODEL_PATH names model.onnx, a fp32 file, but MODEL_DTYPE is q8: name the model directory, or set MODEL_DTYPE=fp32',
  });
});

t.test('MODEL_DTYPE and its older name MODEL_PRECISION', async (t) => {
  t.equal(loadConfig({}, []).modelDtype, 'auto');
  t.equal(loadConfig({ MODEL_DTYPE: 'q8' }, []).modelDtype, 'q8');
  t.equal(loadConfig({ MODEL_DTYPE: ' Q4F16 ' }, []).modelDtype, 'q4f16', 'trimmed, any case');
  t.equal(loadConfig({ MODEL_PRECISION: 'fp16' }, []).modelDtype, 'fp16', 'MODEL_PRECISION=fp16 is MODEL_DTYPE=fp16');
  t.equal(loadConfig({ MODEL_PRECISION: 'fp32', MODEL_DTYPE: 'fp32' }, []).modelDtype, 'fp32', 'both, agreeing');
  t.throws(() => loadConfig({ MODEL_PRECISION: 'fp16', MODEL_DTYPE: 'q8' }, []), {
    name: 'ConfigError', message: 'MODEL_DTYPE=q8 and MODEL_PRECISION=fp16 disagree: MODEL_PRECISION is the older name of MODEL_DTYPE, set one',
  });
  t.throws(() => loadConfig({ MODEL_DTYPE: 'int4' }, []), { name: 'ConfigError', message: /^MODEL_DTYPE must be one of auto, fp32, fp16, int8, uint8, q8, q4, .*got 'int4'$/ });
  t.throws(() => loadConfig({ MODEL_PRECISION: 'half' }, []), { name: 'ConfigError', message: /^MODEL_PRECISION must be one of auto, fp32, fp16, / });
});

t.test('the server refuses to start with a missing dtype in one line naming the files found', async (t) => {
  const dir = modelFolder(t, ['onnx/model.onnx', 'onnx/model_fp16.onnx']);
  const run = spawnServer({ MODEL_PATH: dir, MODEL_DTYPE: 'q8', PORT: '0' });
  t.equal(await run.exited, 1, 'exit code 1');
  t.equal(run.stderr(), `start-up failed: MODEL_DTYPE=q8 serves model_quantized.onnx (at the top of ${dir} or in its onnx/ folder), which is not there; ` +
    `the ONNX files there: onnx/model.onnx (fp32), onnx/model_fp16.onnx (fp16); make it with \`npm run quantize -- ${dir}\`\n`);
});
