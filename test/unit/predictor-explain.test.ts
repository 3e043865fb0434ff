// The predictor's explanations and declared preprocessing, over a fake backend (test/helpers/fake-backend.ts:
// "good" makes a text positive, "bad" negative): a text's leave-one-word-out variants go to the backend in the
// same call as the text, its words are weighed by them, and only the caller's texts are counted, cached and
// named in errors; the model's preprocessing runs before the cache is asked and before the backend sees a text.
import t from 'tap';
import { pino } from 'pino';
import { ServiceMetrics } from '../../core/metrics.js';
import { PredictionCache } from '../../core/prediction-cache.js';
import { Predictor } from '../../core/predictor.js';
import { FakeBackend, LABELS, fakeModel } from '../helpers/fake-backend.js';

function setup({ cacheSize = 0, maxQueue = 100, explainMaxWords = 8, preprocess = undefined as ((text: string) => string) | undefined } = {}) {
  const backend = new FakeBackend();
  const metrics = new ServiceMetrics({ depth: () => 0, inFlight: () => 0, capacity: () => maxQueue });
  const cache = cacheSize > 0 ? new PredictionCache({ size: cacheSize, ttlSeconds: 60, metrics, logger: pino({ level: 'silent' }) }) : undefined;
  const predictor = new Predictor(
    fakeModel(backend, { preprocess }),
    { maxBatchSize: 64, maxBatchTokens: 4096, maxWaitMs: 5, maxQueue },
    { maxTextChars: 100, maxClientBatch: 10, requestTimeoutMs: 10_000, explainMaxWords },
    metrics,
    cache,
  );
  const metric = async (name: string, labels = '') => {
    const line = (await metrics.registry.metrics()).split('\n').find((row) => row.startsWith(`${name}${labels} `));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };
  return { backend, predictor, metric };
}

const deadline = () => performance.now() + 10_000;
const keepAlive = setInterval(() => undefined, 1_000);
t.teardown(() => clearInterval(keepAlive));

/** The fake's softmax probability of a label: 4 on its own logit, 0 on the others. */
const top = Math.exp(4) / (Math.exp(4) + 2);
const other = 1 / (Math.exp(4) + 2);

t.test('a text and its variants without each word go in one call; each word is weighed by them', async (t) => {
  const { backend, predictor, metric } = setup();
  const set = await predictor.predict(['a  good\tday', 'bad'], { deadline: deadline(), explain: true });
  t.equal(backend.batches.length, 1, 'one batch');
  t.same(backend.batches[0]!.texts, ['a  good\tday', 'bad', 'good\tday', 'a  day', 'a  good', ''], 'the texts, then each one without each word (and the spaces after it; the last word, the spaces before it)');
  t.equal(set.results.length, 2, 'the caller gets its own texts\' answers');
  t.same(set.results.map((result) => LABELS[result.labelIndex]), ['positive', 'negative']);
  const weights = set.explanations!.map((words) => words.map(({ text, weight }) => [text, Number(weight.toFixed(6))]));
  t.same(weights, [
    [['a', 0], ['good', Number((top - other).toFixed(6))], ['day', 0]],
    [['bad', Number((top - other).toFixed(6))]],
  ], '"good" carries the positive label; a lone word is weighed against the empty text');
  t.equal(await metric('sentiment_predicted_label_total', '{label="positive",model_version="fake00000001"}'), 1, 'variants are no predictions');
  t.equal(await metric('sentiment_predicted_label_total', '{label="neutral",model_version="fake00000001"}'), 0);
  t.equal(await metric('sentiment_prediction_confidence_count', '{model_version="fake00000001"}'), 2);
  t.equal(await metric('sentiment_batch_size_sum'), 6, 'the batch counts every text it ran');
});

t.test('explain limits: words per text, and the call\'s inputs within the queue', async (t) => {
  const { backend, predictor } = setup({ maxQueue: 12, explainMaxWords: 4 });
  await t.rejects(predictor.predict(['one two', 'one two three four five'], { deadline: deadline(), explain: true }), {
    code: 'TOO_MANY_WORDS', message: 'texts.1 has 5 words; explain weighs at most 4 (EXPLAIN_MAX_WORDS): send a shorter text, or leave explain out',
  });
  await t.rejects(predictor.predict(['a b c d', 'a b c d', 'a b c'], { deadline: deadline(), explain: true, listName: 'texts' }), {
    code: 'TOO_MANY_TEXTS', message: /^explaining texts takes 14 model inputs .* the queue holds at most 12 \(MAX_QUEUE\)/,
  });
  t.equal(backend.batches.length, 0, 'nothing ran');
  const fine = await predictor.predict(['one two three four five'], { deadline: deadline() });
  t.equal(fine.explanations, undefined, 'without explain, no limit on words and no explanation');
});

t.test('variants are neither looked up nor kept in the cache; the text is', async (t) => {
  const { backend, predictor } = setup({ cacheSize: 10 });
  await predictor.predict(['a good day'], { deadline: deadline(), explain: true });
  const again = await predictor.predict(['a good day', 'good day'], { deadline: deadline() });
  t.equal(again.cacheHits, 1, 'the explained text was cached, its variant "good day" was not');
  t.same(backend.batches.at(-1)!.texts, ['good day']);
  const explainedAgain = await predictor.predict(['a good day'], { deadline: deadline(), explain: true });
  t.equal(explainedAgain.cacheHits, 1, 'a cached text is still explained: only its variants run');
  t.same(backend.batches.at(-1)!.texts, ['good day', 'a day', 'a good']);
  t.equal(explainedAgain.explanations![0]!.length, 3);
});

t.test('predictEach explains each text on its own', async (t) => {
  const { predictor } = setup();
  const outcomes = await new Promise<unknown[]>((resolve) => {
    const seen: unknown[] = [];
    let left = 3;
    predictor.predictEach(['good news', 'one two three four five six seven eight nine', 'bad'], { deadline: deadline(), explain: true, name: (i) => `line ${i + 1}` }, (i, outcome, explanation) => {
      seen[i] = outcome instanceof Error ? (outcome as Error & { code: string }).code : explanation?.map((word) => word.text);
      if (--left === 0) resolve(seen);
    });
  });
  t.same(outcomes, [['good', 'news'], 'TOO_MANY_WORDS', ['bad']], 'one text\'s failure is its own');
});

t.test('the declared preprocessing runs before the cache and the backend, on every way in', async (t) => {
  const { backend, predictor } = setup({ cacheSize: 10, preprocess: (text) => text.replace(/@\w+/g, '@user') });
  const first = await predictor.predict(['@ann good'], { deadline: deadline() });
  t.same(backend.batches[0]!.texts, ['@user good'], 'the backend reads the normalized text');
  const second = await predictor.predict(['@bob good'], { deadline: deadline() });
  t.equal(second.cacheHits, 1, 'two texts made equal share one cached answer');
  t.equal(second.results[0], first.results[0]);
  await predictor.predict(['@cy bad day'], { deadline: deadline(), explain: true });
  t.same(backend.batches.at(-1)!.texts, ['@user bad day', 'bad day', '@user day', '@user bad'], 'variants are normalized too');
  const each = await new Promise<string>((resolve) => predictor.predictEach(['@dee bad'], { deadline: deadline() }, () => resolve(backend.batches.at(-1)!.texts[0]!)));
  t.equal(each, '@user bad', 'predictEach (streams) too');
  const tokens = await predictor.tokenize(['@eve hi'], { addSpecialTokens: false, name: () => 'inputs' });
  t.same(tokens[0]!.map((token) => token.text), ['@user', 'hi'], 'and TEI /tokenize shows the tokens the model reads');
});
