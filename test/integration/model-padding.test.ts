// A text's logits must not depend on how far its batch is padded nor on the other texts of the batch:
// the server pads every batch to a multiple of 8 tokens and mixes lengths.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModelFiles } from '../../inference/model-files.js';
import { batchFeeds, padRows } from '../../inference/session.js';
import { TextTokenizer } from '../../inference/tokenizer.js';

const MODEL_DIR = join(import.meta.dirname, '..', '..', 'models', 'twitter-sentiment');
const TOLERANCE = 1e-5;

const files = loadModelFiles(MODEL_DIR);
const tokenizer = new TextTokenizer(files.tokenizerJson, files.tokenizerConfig, files.maxTokens);
const session = await ort.InferenceSession.create(files.onnxPath, { intraOpNumThreads: 1 });
t.teardown(() => session.release());

const reference = JSON.parse(readFileSync(join(MODEL_DIR, 'reference-logits.json'), 'utf8')) as { tweets: Array<{ text: string }> };
// Lengths from 2 tokens (empty text) to the 128-token limit, plus real tweets of every length.
const texts = [
  '',
  'ok',
  'I love it :)',
  'worst. day. ever. :(',
  ...reference.tweets.slice(0, 40).map((tw) => tw.text),
  'so '.repeat(300) + 'happy', // truncated to 128 tokens
];
const encoded = texts.map((text) => tokenizer.encode(text).ids);

/** Logits of `rows` padded to `seq` tokens with `padId` (the tokenizer's, unless a test says otherwise). */
async function run(rows: number[][], seq: number, padId = tokenizer.padId): Promise<number[][]> {
  const out = await session.run(batchFeeds(padRows(rows, padId, { length: seq })));
  const data = out.logits!.data as Float32Array;
  return rows.map((_, i) => Array.from(data.subarray(i * 3, i * 3 + 3)));
}

function maxDiff(a: number[][], b: number[][]): number {
  let worst = 0;
  a.forEach((row, i) => row.forEach((v, j) => { worst = Math.max(worst, Math.abs(v - b[i]![j]!)); }));
  return worst;
}

const alone = await Promise.all(encoded.map(async (ids) => (await run([ids], ids.length))[0]!));

t.test('the truncated text is 128 tokens and ends with [SEP]', async (t) => {
  const long = encoded[encoded.length - 1]!;
  t.equal(long.length, 128);
  t.equal(long[127], encoded[0]![1], 'same closing token as the empty text');
});

t.test('extra padding does not change logits', async (t) => {
  for (const extra of [1, 7, 8, 64]) {
    const padded = await Promise.all(encoded.map(async (ids) => (await run([ids], Math.min(ids.length + extra, Math.max(ids.length, 128))))[0]!));
    t.ok(maxDiff(padded, alone) <= TOLERANCE, `+${extra} pads: ${maxDiff(padded, alone).toExponential(2)}`);
  }
  const atLimit = await run(encoded, 128 + 16);
  t.ok(maxDiff(atLimit, alone) <= TOLERANCE, 'all texts in one batch padded past the limit');
});

t.test('batch companions and order do not change logits', async (t) => {
  const seq = Math.ceil(Math.max(...encoded.map((e) => e.length)) / 8) * 8;
  const together = await run(encoded, seq);
  t.ok(maxDiff(together, alone) <= TOLERANCE, `one batch of ${encoded.length}: ${maxDiff(together, alone).toExponential(2)}`);

  const order = encoded.map((_, i) => i).reverse();
  const reversed = await run(order.map((i) => encoded[i]!), seq);
  t.ok(maxDiff(order.map((i) => alone[i]!), reversed) <= TOLERANCE, 'reversed order');

  // Batches of 8 as the server builds them: padded to a multiple of 8 of their own longest text.
  for (let k = 0; k < encoded.length; k += 8) {
    const rows = encoded.slice(k, k + 8);
    const out = await run(rows, Math.ceil(Math.max(...rows.map((r) => r.length)) / 8) * 8);
    t.ok(maxDiff(out, alone.slice(k, k + 8)) <= TOLERANCE, `batch starting at ${k}`);
  }
});

t.test('pad positions holding other ids are ignored too (only attention_mask counts)', async (t) => {
  const rows = encoded.slice(0, 10);
  const seq = 64;
  const got = await run(rows, seq, 777);
  t.ok(maxDiff(got, alone.slice(0, 10)) <= TOLERANCE, maxDiff(got, alone.slice(0, 10)).toExponential(2));
});
