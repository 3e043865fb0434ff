// The shipped model gets unmistakable tweets right, and ONNX Runtime scores the validation set as the
// model card says.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModelFiles } from '../../inference/model-files.js';
import { batchFeeds, padRows } from '../../inference/session.js';
import { TextTokenizer } from '../../inference/tokenizer.js';
import { VALIDATION, jsonLines } from '../helpers/data.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MODEL_DIR = join(ROOT, 'models', 'twitter-sentiment');

const files = loadModelFiles(MODEL_DIR);
const tokenizer = new TextTokenizer(files.tokenizerJson, files.tokenizerConfig, files.maxTokens);
const session = await ort.InferenceSession.create(files.onnxPath, { intraOpNumThreads: 1 });
t.teardown(() => session.release());
const metrics = JSON.parse(readFileSync(join(MODEL_DIR, 'metrics.json'), 'utf8')) as { validation: { macro_recall: number; accuracy: number } };

async function classify(texts: string[]): Promise<string[]> {
  const rows = texts.map((text) => tokenizer.encode(text).ids);
  const out = await session.run(batchFeeds(padRows(rows, tokenizer.padId, { multiple: 8 })));
  const data = out.logits!.data as Float32Array;
  return rows.map((_, i) => {
    const row = Array.from(data.subarray(i * 3, i * 3 + 3));
    return files.labels[row.indexOf(Math.max(...row))]!;
  });
}

t.test('unmistakable tweets', async (t) => {
  const cases: Array<[string, string]> = [
    ['I love this so much, best day ever! :)', 'positive'],
    ['Happy birthday to my amazing sister, love you!! <3', 'positive'],
    ['Thank you so much, this made my day 😂❤️', 'positive'],
    ['This is the worst service I have ever had. Absolutely terrible :(', 'negative'],
    ['I hate Mondays, so tired and sad', 'negative'],
    ['Worst movie ever, what a waste of time and money', 'negative'],
    ['The meeting is scheduled for Tuesday at 3pm in room 204.', 'neutral'],
    ['The train to Boston leaves at 7:15 from platform 4.', 'neutral'],
  ];
  const got = await classify(cases.map(([text]) => text));
  cases.forEach(([text, label], i) => t.equal(got[i], label, text));
});

t.test('validation set through ONNX Runtime scores what metrics.json records', async (t) => {
  const rows = jsonLines(VALIDATION).map((line) => JSON.parse(line) as { text: string; label: string });
  const predicted: string[] = [];
  for (let k = 0; k < rows.length; k += 32) predicted.push(...await classify(rows.slice(k, k + 32).map((r) => r.text)));
  const recalls = files.labels.map((label) => {
    const of = rows.map((r, i) => [r.label, predicted[i]] as const).filter(([gold]) => gold === label);
    return of.filter(([, p]) => p === label).length / of.length;
  });
  const macroRecall = recalls.reduce((a, b) => a + b, 0) / recalls.length;
  const accuracy = rows.filter((r, i) => r.label === predicted[i]).length / rows.length;
  t.ok(Math.abs(macroRecall - metrics.validation.macro_recall) < 1e-3, `macro recall ${macroRecall.toFixed(4)} vs ${metrics.validation.macro_recall.toFixed(4)}`);
  t.ok(Math.abs(accuracy - metrics.validation.accuracy) < 1e-3, `accuracy ${accuracy.toFixed(4)}`);
  t.ok(macroRecall >= 0.68, 'macro recall at least 0.68 (a regression floor; the model card has the real figure)');
});
