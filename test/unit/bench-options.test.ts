// The benchmark's command line takes a model folder in either Hugging Face layout, as the service does.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { onnxBytes, parseCommand } from '../../bench/cli-options.js';

function modelDir(files: Record<string, number>): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-model-'));
  for (const [file, bytes] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), Buffer.alloc(bytes));
  }
  return dir;
}

t.test('--model: the top-level layout and the onnx/ layout are both a model; a folder with neither is refused', async (t) => {
  const layouts: Record<string, number>[] = [{ 'model.onnx': 10 }, { 'onnx/model.onnx': 10, 'onnx/model_quantized.onnx': 5 }, { 'onnx/model_quantized.onnx': 5 }];
  for (const files of layouts) {
    const parsed = parseCommand(['smoke', '--model', modelDir(files)]);
    t.ok('options' in parsed, `${Object.keys(files).join(', ')}: accepted`);
  }
  const empty = modelDir({ 'config.json': 2 });
  const refused = parseCommand(['smoke', '--model', empty]);
  t.match(refused, { exitCode: 2, message: `model not found: no model.onnx (or onnx/model*.onnx) in ${empty}` });
});

t.test('the model size that picks the heavy-model defaults is read in either layout', async (t) => {
  t.equal(onnxBytes(modelDir({ 'model.onnx': 1234 })), 1234);
  t.equal(onnxBytes(modelDir({ 'onnx/model.onnx': 4321, 'onnx/model_quantized.onnx': 99 })), 4321, 'the fp32 file first');
  t.equal(onnxBytes(modelDir({ 'config.json': 2 })), 0);
});
