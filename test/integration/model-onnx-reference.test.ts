// The committed model honours the service's ONNX contract, and ONNX Runtime (Node), fed by the
// server's tokenizer, reproduces the PyTorch logits stored at training time on 200 validation tweets.
import t from 'tap';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModelFiles } from '../../inference/model-files.js';
import { batchFeeds, padRows } from '../../inference/session.js';
import { TextTokenizer } from '../../inference/tokenizer.js';

const MODEL_DIR = join(import.meta.dirname, '..', '..', 'models', 'twitter-sentiment');
const TOLERANCE = 1e-4;

interface Reference { labels: string[]; tweets: Array<{ text: string; label: string; ids: number[]; logits: number[] }> }

const files = loadModelFiles(MODEL_DIR);
const tokenizer = new TextTokenizer(files.tokenizerJson, files.tokenizerConfig, files.maxTokens);
const reference = JSON.parse(readFileSync(join(MODEL_DIR, 'reference-logits.json'), 'utf8')) as Reference;
const session = await ort.InferenceSession.create(files.onnxPath, { intraOpNumThreads: 1 });
t.teardown(() => session.release());

const feeds = (rows: number[][], multiple = 8) => batchFeeds(padRows(rows, tokenizer.padId, { multiple }));

t.test('model directory: files, size, config', async (t) => {
  for (const name of ['model.onnx', 'tokenizer.json', 'tokenizer_config.json', 'config.json', 'best_model.pt', 'reference-logits.json', 'README.md']) {
    t.ok(existsSync(join(MODEL_DIR, name)), `${name} is there`);
  }
  const bytes = readdirSync(MODEL_DIR).reduce((n, f) => n + statSync(join(MODEL_DIR, f)).size, 0);
  t.ok(bytes <= 25 * 1024 * 1024, `directory is ${(bytes / 1048576).toFixed(1)} MiB, at most 25 MiB`);
  t.same(files.config.id2label, { 0: 'negative', 1: 'neutral', 2: 'positive' });
  t.same(files.labels, ['negative', 'neutral', 'positive']);
  t.equal(typeof files.config.model_type, 'string');
  t.equal(files.config.max_position_embeddings, 128);
  t.equal(files.tokenizerConfig.model_max_length, 128);
  t.equal(files.maxTokens, 128, 'the server truncates to 128 tokens');
  t.equal(tokenizer.padId, files.config.pad_token_id);
});

t.test('ONNX contract: int64 input_ids and attention_mask in, float32 logits [batch, 3] out', async (t) => {
  t.same(session.inputNames, ['input_ids', 'attention_mask']);
  t.same(session.outputNames, ['logits']);
  for (const [batch, seq] of [[1, 8], [3, 16], [32, 40], [5, 128]] as const) {
    const rows = Array.from({ length: batch }, (_, i) => [2, ...Array.from({ length: Math.max(0, seq - 2 - i) }, (_, j) => 100 + j), 3]);
    const out = await session.run(feeds(rows));
    t.equal(out.logits!.type, 'float32');
    t.same(out.logits!.dims, [batch, 3], `batch ${batch}, sequence ${seq}`);
    t.ok((out.logits!.data as Float32Array).every(Number.isFinite));
  }
});

t.test('tokenizer ids of the 200 reference tweets are the ones PyTorch was fed', async (t) => {
  t.equal(reference.tweets.length, 200);
  let mismatches = 0;
  for (const tweet of reference.tweets) {
    if (JSON.stringify(tokenizer.encode(tweet.text).ids) !== JSON.stringify(tweet.ids)) mismatches++;
  }
  t.equal(mismatches, 0);
});

t.test(`ORT logits match PyTorch to ${TOLERANCE}, one tweet per run`, async (t) => {
  let worst = 0;
  for (const tweet of reference.tweets) {
    const out = await session.run(feeds([tokenizer.encode(tweet.text).ids], 1));
    const data = out.logits!.data as Float32Array;
    tweet.logits.forEach((v, j) => { worst = Math.max(worst, Math.abs(v - data[j]!)); });
  }
  t.ok(worst <= TOLERANCE, `max |ORT - PyTorch| = ${worst.toExponential(2)}`);
});

t.test(`ORT logits match PyTorch to ${TOLERANCE} in padded batches of 32 of mixed lengths`, async (t) => {
  let worst = 0;
  let agree = 0;
  for (let k = 0; k < reference.tweets.length; k += 32) {
    const chunk = reference.tweets.slice(k, k + 32);
    const out = await session.run(feeds(chunk.map((tw) => tokenizer.encode(tw.text).ids)));
    const data = out.logits!.data as Float32Array;
    chunk.forEach((tw, i) => {
      const row = Array.from(data.subarray(i * 3, i * 3 + 3));
      row.forEach((v, j) => { worst = Math.max(worst, Math.abs(v - tw.logits[j]!)); });
      if (row.indexOf(Math.max(...row)) === tw.logits.indexOf(Math.max(...tw.logits))) agree++;
    });
  }
  t.ok(worst <= TOLERANCE, `max |ORT - PyTorch| = ${worst.toExponential(2)}`);
  t.equal(agree, reference.tweets.length, 'same predicted label for every tweet');
});
