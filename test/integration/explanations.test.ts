// Explanations over real HTTP and real workers: `explain: true` on /api/predict, /api/predict/batch and the
// stream's lines adds each word's weight, which is the predicted label's probability with the word minus
// without it, the variants being scored in the same batch as the text (one worker task for an idle
// service). Checked against the service's own answers for the variants, asked for separately; and on the
// shipped model, the word that makes a tweet negative weighs the most.
import t from 'tap';
import { metricSum } from '../helpers/deploy-checks.js';
import { collect, postStream } from '../helpers/ndjson.js';
import { postJson, startTestService } from '../helpers/service.js';

const SHIPPED_MODEL = new URL('../../models/twitter-sentiment', import.meta.url).pathname;
const TEXT = 'the new phone is great but  the battery\tdies fast';

/** The text without word i and the spaces after it (before it, for the last word), as the service cuts it. */
function without(text: string, i: number): string {
  const words = [...text.matchAll(/\S+/g)];
  const word = words[i]!;
  const next = words[i + 1];
  if (next !== undefined) return text.slice(0, word.index) + text.slice(next.index);
  const previous = words[i - 1];
  return text.slice(0, previous === undefined ? word.index : previous.index + previous[0].length) + text.slice(word.index + word[0].length);
}

const metrics = async (url: string) => (await fetch(`${url}/metrics`)).text();

t.test('each word weighed by leaving it out, in one batch, on every prediction route', async (t) => {
  const server = await startTestService({ CACHE_SIZE: '100' });
  t.teardown(() => server.close());
  const { url } = server;
  const words = TEXT.split(/\s+/);

  const before = await metrics(url);
  const explained = await postJson(`${url}/api/predict`, { text: TEXT, explain: true });
  const after = await metrics(url);
  t.equal(explained.status, 200);
  t.same(Object.keys(explained.body), ['label', 'score', 'scores', 'truncated', 'explanation']);
  t.same(explained.body.explanation.map((word: { text: string }) => word.text), words, 'every word, in order');
  t.equal(metricSum(after, 'sentiment_batch_size_count') - metricSum(before, 'sentiment_batch_size_count'), 1, 'one batch: one worker task');
  t.equal(metricSum(after, 'sentiment_batch_size_sum') - metricSum(before, 'sentiment_batch_size_sum'), words.length + 1, 'the text and each variant');
  t.equal(metricSum(after, 'sentiment_predicted_label_total') - metricSum(before, 'sentiment_predicted_label_total'), 1, 'one prediction returned, whatever the variants');

  const variants = (await postJson(`${url}/api/predict/batch`, { texts: words.map((_, i) => without(TEXT, i)) })).body.predictions as { scores: Record<string, number> }[];
  const label = explained.body.label as string;
  explained.body.explanation.forEach((word: { text: string; weight: number }, i: number) => {
    const expected = explained.body.scores[label] - variants[i]!.scores[label]!;
    t.ok(Math.abs(word.weight - expected) < 1e-5, `"${word.text}": ${word.weight} = p(${label}) with it − without it (${expected})`);
  });

  const plain = await postJson(`${url}/api/predict`, { text: TEXT });
  t.equal(plain.headers.get('x-cache'), 'hit', 'the explained text\'s own answer was cached');
  t.notOk('explanation' in plain.body, 'no explanation unless asked');
  t.same(plain.body.scores, explained.body.scores);

  const batch = await postJson(`${url}/api/predict/batch`, { texts: ['what a great day', TEXT], explain: true });
  t.equal(batch.status, 200);
  t.same(batch.body.predictions[1].explanation, explained.body.explanation, 'the batch route explains each text');
  t.same(batch.body.predictions[0].explanation.map((word: { text: string }) => word.text), ['what', 'a', 'great', 'day']);

  const stream = await postStream(url, [JSON.stringify({ id: 1, text: TEXT, explain: true }), JSON.stringify({ id: 2, text: TEXT }), JSON.stringify({ id: 3, text: TEXT, explain: 'yes' })].join('\n'));
  const lines = await collect(stream.lines);
  t.same(lines[0].explanation, explained.body.explanation, 'a stream line with explain: true');
  t.notOk('explanation' in lines[1], 'a line without it');
  t.same(lines[2], { line: 3, id: 3, error: { code: 'FST_ERR_VALIDATION', message: 'explain must be boolean' } });
});

t.test('a text of more words than EXPLAIN_MAX_WORDS is refused with 413 when explained, answered when not', async (t) => {
  const server = await startTestService({ EXPLAIN_MAX_WORDS: '5' });
  t.teardown(() => server.close());
  const long = 'one two three four five six';
  const refused = await postJson(`${server.url}/api/predict`, { text: long, explain: true });
  t.equal(refused.status, 413);
  t.same(refused.body, { statusCode: 413, code: 'TOO_MANY_WORDS', error: 'Payload Too Large', message: 'text has 6 words; explain weighs at most 5 (EXPLAIN_MAX_WORDS): send a shorter text, or leave explain out', requestId: refused.headers.get('x-request-id') });
  t.equal((await postJson(`${server.url}/api/predict`, { text: long })).status, 200);
  const batch = await postJson(`${server.url}/api/predict/batch`, { texts: ['fine', long], explain: true });
  t.equal(batch.status, 413);
  t.match(batch.body.message, /^texts\.1 has 6 words/);
  const stream = await collect((await postStream(server.url, `${JSON.stringify({ text: long, explain: true })}\n${JSON.stringify({ text: 'fine', explain: true })}\n`)).lines);
  t.equal(stream[0].error.code, 'TOO_MANY_WORDS');
  t.equal(stream[1].explanation.length, 1, 'the next line is explained');
  const notBoolean = await postJson(`${server.url}/api/predict`, { text: 'x', explain: 1 });
  t.equal(notBoolean.status, 400);
  t.equal(notBoolean.body.code, 'FST_ERR_VALIDATION');
});

t.test('the shipped model: the word that makes a tweet negative weighs the most', async (t) => {
  const server = await startTestService({ MODEL_PATH: SHIPPED_MODEL });
  t.teardown(() => server.close());
  const { body } = await postJson(`${server.url}/api/predict`, { text: 'worst customer service ever', explain: true });
  t.equal(body.label, 'negative');
  const heaviest = [...body.explanation].sort((a: { weight: number }, b: { weight: number }) => b.weight - a.weight)[0];
  t.equal(heaviest.text, 'worst', `"worst" carries the label: ${JSON.stringify(body.explanation)}`);
  t.ok(heaviest.weight > 0.1, 'by a clear margin');
});
