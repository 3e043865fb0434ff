// R_ort's batches (bench/ort-batches.ts): in arrival order, or as the service's batcher forms them.
import t from 'tap';
import { cutBatches } from '../../bench/ort-batches.js';

// Tweet-like token counts: short and long ones mixed, as they arrive.
const lengths = Array.from({ length: 200 }, (_, i) => [12, 40, 20, 70, 9, 33, 55, 16][i % 8]! + (i % 5));
const base = { batch: 8, maxTokens: 512, padMultiple: 8 };

const everyTextOnce = (batches: { rows: number[] }[]) => batches.flatMap((b) => b.rows).sort((a, b) => a - b);

t.test('arrival order: consecutive texts, each batch padded to its longest, rounded to the multiple', async (t) => {
  const cut = await cutBatches(lengths, { ...base, grouping: 'arrival' });
  t.same(everyTextOnce(cut.batches), lengths.map((_, i) => i));
  t.same(cut.batches[0]!.rows, [0, 1, 2, 3, 4, 5, 6, 7]);
  t.equal(cut.batches[0]!.length, 80, 'the longest (73) rounded up to 8');
  t.equal(cut.realTokens, lengths.reduce((a, b) => a + b, 0));
  t.equal(cut.paddingRatio, cut.paddedTokens / cut.realTokens);
});

t.test('length order: the batcher groups similar lengths, so far less padding, every text once', async (t) => {
  const arrival = await cutBatches(lengths, { ...base, grouping: 'arrival' });
  const grouped = await cutBatches(lengths, { ...base, grouping: 'length' });
  t.same(everyTextOnce(grouped.batches), lengths.map((_, i) => i));
  t.ok(grouped.batches.every((b) => b.rows.length <= 8));
  t.ok(grouped.paddingRatio < 1.25 && arrival.paddingRatio > 1.5, `padding ${grouped.paddingRatio.toFixed(3)} grouped vs ${arrival.paddingRatio.toFixed(3)} in arrival order`);
  t.equal(grouped.batches[0]!.rows[0], 0, 'anchored on the oldest text, as the batcher does');
});

t.test('length order honours MAX_BATCH_TOKENS and a shallow queue', async (t) => {
  const capped = await cutBatches(lengths, { ...base, grouping: 'length', maxBatchTokens: 160 });
  t.ok(capped.batches.every((b) => b.rows.length === 1 || b.rows.length * b.length <= 160));
  const shallow = await cutBatches(lengths, { ...base, grouping: 'length', queue: 8 });
  const deep = await cutBatches(lengths, { ...base, grouping: 'length' });
  t.same(everyTextOnce(shallow.batches), lengths.map((_, i) => i));
  t.ok(shallow.paddingRatio >= deep.paddingRatio, 'fewer texts to choose from: no less padding');
});
