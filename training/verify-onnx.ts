// Runs the exported model.onnx in ONNX Runtime (Node), fed by the server's tokenizer, on the whole
// validation set in padded batches, and checks it against the PyTorch reference logits.
//
//   npx tsx training/verify-onnx.ts --model models/twitter-sentiment --data data/tweeteval-sentiment
//
// Prints a JSON report, then one line with the validation macro recall. Exits 1 when ORT and PyTorch
// disagree by more than 1e-4 on the reference tweets.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadModelFiles } from '../inference/model-files.js';
import { batchFeeds, padRows } from '../inference/session.js';
import { TextTokenizer } from '../inference/tokenizer.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/twitter-sentiment' },
    data: { type: 'string', default: 'data/tweeteval-sentiment' },
    batch: { type: 'string', default: '32' },
  },
});

interface Reference { tweets: Array<{ text: string; ids: number[]; logits: number[] }> }

const files = loadModelFiles(values.model);
const tokenizer = new TextTokenizer(files.tokenizerJson, files.tokenizerConfig, files.maxTokens);
const session = await ort.InferenceSession.create(files.onnxPath, { intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
const batch = Number(values.batch);

async function logitsOf(rows: number[][]): Promise<number[][]> {
  const out: number[][] = [];
  for (let k = 0; k < rows.length; k += batch) {
    const chunk = rows.slice(k, k + batch);
    const result = await session.run(batchFeeds(padRows(chunk, tokenizer.padId, { multiple: 8 })));
    const data = result.logits!.data as Float32Array;
    const width = files.labels.length;
    for (let i = 0; i < chunk.length; i++) out.push(Array.from(data.subarray(i * width, (i + 1) * width)));
  }
  return out;
}

const reference = JSON.parse(readFileSync(join(files.dir, 'reference-logits.json'), 'utf8')) as Reference;
let idMismatches = 0;
const refIds = reference.tweets.map((t) => {
  const ids = tokenizer.encode(t.text).ids;
  if (JSON.stringify(ids) !== JSON.stringify(t.ids)) idMismatches++;
  return ids;
});
const refLogits = await logitsOf(refIds);
let maxAbsDiff = 0;
refLogits.forEach((row, i) => row.forEach((v, j) => { maxAbsDiff = Math.max(maxAbsDiff, Math.abs(v - reference.tweets[i]!.logits[j]!)); }));

const lines = readFileSync(join(resolve(values.data), 'validation.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '');
const rows = lines.map((l) => JSON.parse(l) as { text: string; label: string });
const started = performance.now();
const all = await logitsOf(rows.map((r) => tokenizer.encode(r.text).ids));
const seconds = (performance.now() - started) / 1000;
const n = files.labels.length;
const confusion = Array.from({ length: n }, () => new Array<number>(n).fill(0));
rows.forEach((r, i) => {
  const row = all[i]!;
  const predicted = row.indexOf(Math.max(...row));
  confusion[files.labels.indexOf(r.label)]![predicted]!++;
});
const recalls = confusion.map((row, c) => row[c]! / row.reduce((a, b) => a + b, 0));
const macroRecall = recalls.reduce((a, b) => a + b, 0) / n;
const accuracy = confusion.reduce((a, row, c) => a + row[c]!, 0) / rows.length;
const report = {
  referenceTweets: reference.tweets.length,
  referenceIdMismatches: idMismatches,
  referenceMaxAbsLogitDiff: maxAbsDiff,
  validation: { tweets: rows.length, macroRecall, accuracy, recalls: Object.fromEntries(files.labels.map((l, i) => [l, recalls[i]])), confusion, seconds: Number(seconds.toFixed(2)) },
};
console.log(JSON.stringify(report, null, 2));
writeFileSync(join(files.dir, 'onnx-check.json'), JSON.stringify(report, null, 2) + '\n');
if (idMismatches > 0 || !(maxAbsDiff <= 1e-4)) {
  console.error(`ORT vs PyTorch check FAILED: ${idMismatches} id mismatches, max |logit diff| ${maxAbsDiff}`);
  process.exit(1);
}
console.log(`validation macro recall (ONNX Runtime, batches of ${batch}): ${macroRecall.toFixed(4)}, accuracy ${accuracy.toFixed(4)}`);
