// Unit tests of the predictor, the one door of the core, over a fake backend (test/helpers/fake-backend.ts):
// its own text checks, one batch per event-loop turn, settling per call, the cache, drops and their reasons,
// per-text outcomes for streams, metrics per batch and the hot swap. No worker, no model, no socket.
import t from 'tap';
import { pino } from 'pino';
import { ServiceMetrics } from '../../core/metrics.js';
import { PredictionCache } from '../../core/prediction-cache.js';
import { Predictor } from '../../core/predictor.js';
import type { TextResult } from '../../core/results.js';
import { FakeBackend, LABELS, fakeModel } from '../helpers/fake-backend.js';

function setup({ cacheSize = 0, maxQueue = 100, maxBatchSize = 8, hold = false, maxClientBatch = 10 } = {}) {
  const backend = new FakeBackend();
  backend.hold = hold;
  let predictor: Predictor | undefined;
  const metrics = new ServiceMetrics({ depth: () => predictor?.queueDepth ?? 0, inFlight: () => 0, capacity: () => maxQueue });
  const cache = cacheSize > 0 ? new PredictionCache({ size: cacheSize, ttlSeconds: 60, metrics, logger: pino({ level: 'silent' }) }) : undefined;
  predictor = new Predictor(
    fakeModel(backend),
    { maxBatchSize, maxBatchTokens: 1024, maxWaitMs: 5, maxQueue },
    { maxTextChars: 100, maxClientBatch, requestTimeoutMs: 10_000, explainMaxWords: 8 },
    metrics,
    cache,
  );
  const metric = async (name: string, labels = '') => {
    const text = await metrics.registry.metrics();
    const line = text.split('\n').find((row) => row.startsWith(`${name}${labels} `));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };
  return { backend, predictor, metrics, metric };
}

const deadline = () => performance.now() + 10_000;

// The batcher's wait-window timer does not keep a process alive (a server's socket does): this one does, so
// that a test awaiting a batch sealed by that timer is not ended as unfinished.
const keepAlive = setInterval(() => undefined, 1_000);
t.teardown(() => clearInterval(keepAlive));
const labelsOf = (results: readonly TextResult[]) => results.map((result) => LABELS[result.labelIndex]);

t.test('a call gets every text\'s answer, in order, from one batch', async (t) => {
  const { backend, predictor } = setup();
  const set = await predictor.predict(['a good day', 'a bad day', 'a day'], { deadline: deadline() });
  t.same(labelsOf(set.results), ['positive', 'negative', 'neutral']);
  t.equal(backend.batches.length, 1);
  t.same(backend.batches[0]!.texts, ['a good day', 'a bad day', 'a day']);
  t.equal(set.cacheHits, 0);
  t.ok(set.timings.inferenceMs > 0, 'the batch\'s time in the worker');
});

t.test('a call of no texts is answered at once, empty', async (t) => {
  const { backend, predictor } = setup();
  t.same((await predictor.predict([], { deadline: deadline() })).results, []);
  t.equal(backend.batches.length, 0);
});

t.test('calls made in one event-loop turn reach the idle worker as one batch', async (t) => {
  const { backend, predictor } = setup();
  const calls = [['one good'], ['two bad', 'three'], ['four good']].map((texts) => predictor.predict(texts, { deadline: deadline() }));
  const sets = await Promise.all(calls);
  t.equal(backend.batches.length, 1, 'one task for the three calls');
  t.same(backend.batches[0]!.texts, ['one good', 'two bad', 'three', 'four good']);
  t.same(sets.map((set) => labelsOf(set.results)), [['positive'], ['negative', 'neutral'], ['positive']]);
});

t.test('the predictor checks every text itself: a bad one never reaches the backend', async (t) => {
  const { backend, predictor } = setup();
  await t.rejects(predictor.predict(['fine', ' \n '], { deadline: deadline() }), { code: 'INVALID_TEXT', message: 'texts.1 is only whitespace' });
  await t.rejects(predictor.predict(['x'.repeat(101)], { deadline: deadline(), name: () => 'text' }), { code: 'TEXT_TOO_LONG', message: /^text has 101 characters/ });
  await t.rejects(predictor.predict(Array.from({ length: 11 }, () => 'x'), { deadline: deadline(), listName: 'inputs' }), { code: 'TOO_MANY_TEXTS', message: /^inputs holds 11 texts/ });
  await t.rejects(predictor.predict(['nul\0'], { deadline: deadline() }), { code: 'INVALID_TEXT' });
  t.equal(backend.batches.length, 0);
  t.equal(predictor.queueDepth, 0);
});

t.test('a text the worker refuses fails its call; its siblings leave the queue counted as such, not as gone clients', async (t) => {
  const { backend, predictor, metric } = setup({ maxBatchSize: 1, hold: true });
  // The first text runs alone (batch size 1) and is too long with truncation 'none': the call fails with
  // it. The second is already handed to the worker (one batch waits at its door); the third still waits.
  const call = predictor.predict(['w '.repeat(20), 'short', 'short too'], { deadline: deadline(), truncation: 'none', name: (i) => `inputs[${i}][0]` });
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(backend.batches.length, 2, 'one running, one handed ahead');
  backend.batches[0]!.finish();
  await t.rejects(call, { code: 'TOO_MANY_TOKENS', message: 'inputs[0][0] has more than 16 tokens, the most this model reads; allow truncation or send a shorter text' });
  t.equal(predictor.queueDepth, 0, 'the waiting sibling was dropped when the queue was next looked at');
  backend.batches[1]!.finish();
  await new Promise((resolve) => setImmediate(resolve));
  t.same(backend.batches.map((batch) => batch.texts.length), [1, 1], 'and never ran');
  t.equal(await metric('sentiment_rejections_total', '{reason="sibling_failed"}'), 1);
  t.equal(await metric('sentiment_rejections_total', '{reason="aborted"}'), 0);
});

t.test('texts of a client that left are dropped as aborted', async (t) => {
  const { backend, predictor, metric } = setup({ hold: true });
  const first = predictor.predict(['running'], { deadline: deadline() });
  await new Promise((resolve) => setImmediate(resolve));
  const client = { aborted: false };
  const gone = predictor.predict(['waiting a', 'waiting b'], { deadline: deadline(), signal: client });
  client.aborted = true;
  backend.batches[0]!.finish();
  await first;
  await t.rejects(gone, { code: 'REQUEST_ABORTED' });
  t.equal(await metric('sentiment_rejections_total', '{reason="aborted"}'), 2);
});

t.test('a full queue refuses the whole call at once', async (t) => {
  const { backend, predictor } = setup({ hold: true, maxQueue: 10 });
  const running = predictor.predict(['runs'], { deadline: deadline() });
  await new Promise((resolve) => setImmediate(resolve));
  const queued = predictor.predict(Array.from({ length: 8 }, (_, i) => `text ${i}`), { deadline: deadline() });
  await t.rejects(predictor.predict(['a', 'b', 'c'], { deadline: deadline() }), { code: 'QUEUE_FULL' });
  t.equal(predictor.queueDepth, 8, 'nothing of the refused call was queued');
  backend.hold = false;
  backend.batches[0]!.finish();
  await Promise.all([running, queued]);
});

t.test('the cache answers repeated texts without the backend, and says so', async (t) => {
  const { backend, predictor, metric } = setup({ cacheSize: 10 });
  const first = await predictor.predict(['a good one', 'a bad one'], { deadline: deadline() });
  const again = await predictor.predict(['a bad one', 'a good one'], { deadline: deadline() });
  t.equal(backend.batches.length, 1, 'the second call ran no batch');
  t.equal(again.cacheHits, 2);
  t.same(again.timings, { queueMs: 0, inferenceMs: 0 });
  t.equal(again.results[0], first.results[1], 'the same answer object');
  const partial = await predictor.predict(['a good one', 'new'], { deadline: deadline() });
  t.equal(partial.cacheHits, 1);
  t.same(backend.batches[1]!.texts, ['new'], 'only the text not cached ran');
  t.same(labelsOf(partial.results), ['positive', 'neutral']);
  const cut = await predictor.predict(['a good one'], { deadline: deadline(), truncation: 'left' });
  t.equal(cut.cacheHits, 0, 'another truncation is another answer');
  t.equal(await metric('sentiment_cache_lookups_total', '{result="hit",source="memory"}'), 3);
  t.equal(await metric('sentiment_predicted_label_total', '{label="positive",model_version="fake00000001"}'), 4, 'cached answers count as predictions too');
});

t.test('predictEach answers each text on its own, never before it returns', async (t) => {
  const { predictor } = setup();
  const outcomes: (string | undefined)[] = [];
  let returned = false;
  const done = new Promise<void>((resolve) => {
    let left = 4;
    const model = predictor.predictEach(['good', '', 'bad', 'x'.repeat(101)], { deadline: deadline(), name: (i) => `line ${i + 1}` }, (i, outcome) => {
      t.ok(returned, `text ${i} answered after predictEach returned`);
      outcomes[i] = outcome instanceof Error ? (outcome as Error & { code: string }).code : LABELS[outcome.labelIndex];
      if (--left === 0) resolve();
    });
    returned = true;
    t.same(model.labels, LABELS);
  });
  await done;
  t.same(outcomes, ['positive', 'INVALID_TEXT', 'negative', 'TEXT_TOO_LONG'], 'a bad text fails alone');
});

t.test('metrics are counted per batch: size, tokens, runs, predictions by label', async (t) => {
  const { predictor, metric } = setup();
  await predictor.predict(['a good day', 'a bad day', 'a good night'], { deadline: deadline() });
  t.equal(await metric('sentiment_batch_size_sum'), 3);
  t.equal(await metric('sentiment_batch_size_count'), 1);
  t.equal(await metric('sentiment_model_runs_total'), 1);
  t.equal(await metric('sentiment_tokens_total', '{kind="real"}'), 15, 'the worker\'s exact counts, 3 words + 2 special tokens each');
  t.equal(await metric('sentiment_predicted_label_total', '{label="positive",model_version="fake00000001"}'), 2);
  t.equal(await metric('sentiment_predicted_label_total', '{label="negative",model_version="fake00000001"}'), 1);
});

t.test('the token guess learns the tokens per character from the answers', async (t) => {
  const { predictor } = setup();
  const model = fakeModel(new FakeBackend());
  const before = model.estimate.tokensPerChar;
  await predictor.swap(model);
  const text = 'word '.repeat(10).trim(); // 10 tokens in 49 characters
  for (let i = 0; i < 40; i++) await predictor.predict([text], { deadline: deadline() });
  const after = model.estimate.tokensPerChar;
  t.ok(Math.abs(after - 10 / 49) < Math.abs(before - 10 / 49) / 10, `${before.toFixed(3)} → ${after.toFixed(3)} tokens a character (true: ${(10 / 49).toFixed(3)})`);
  t.equal(model.estimate.tokens(text), 12, 'the text\'s own count, special tokens included');
  t.equal(model.estimate.tokens('x'.repeat(10_000)), 16, 'never above the model\'s limit');
});

t.test('a swap waits for the old model\'s queued texts, then closes its backend', async (t) => {
  const { predictor, backend } = setup({ hold: true });
  const old = predictor.predict(['on the old model'], { deadline: deadline() });
  await new Promise((resolve) => setImmediate(resolve));
  const next = new FakeBackend();
  let swapped = false;
  const swap = predictor.swap(fakeModel(next, { version: 'fake00000002' })).then(() => { swapped = true; });
  const fresh = await predictor.predict(['on the new model'], { deadline: deadline() });
  t.equal(fresh.model.version, 'fake00000002');
  t.notOk(swapped, 'the old model still has a text running');
  t.notOk(backend.closed);
  backend.batches[0]!.finish();
  t.equal((await old).model.version, 'fake00000001', 'answered by the model it was queued for');
  await swap;
  t.ok(backend.closed, 'then the old backend closed');
  t.notOk(next.closed);
});

t.test('closing finishes every accepted text, then refuses new calls', async (t) => {
  const { predictor, backend } = setup({ hold: true });
  const accepted = predictor.predict(['accepted'], { deadline: deadline() });
  await new Promise((resolve) => setImmediate(resolve));
  const closing = predictor.close();
  await t.rejects(predictor.predict(['too late'], { deadline: deadline() }), { code: 'SHUTTING_DOWN' });
  backend.batches[0]!.finish();
  t.same(labelsOf((await accepted).results), ['neutral']);
  await closing;
  t.ok(backend.closed);
});
