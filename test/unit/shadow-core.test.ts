// Shadow scoring in the core (core/shadow.ts) over fake backends (test/helpers/fake-backend.ts): nothing runs
// without a candidate; with one, the texts the live model computes are sampled after their answers, compared
// (agreement, confusion table, time per text) and counted in the metrics; sampling stops while the live
// queue holds texts or the candidate's queue is full; explanation variants are never sampled; a candidate
// is checked like a reload; a swapped-in live model starts a new comparison; dropping it stops it.
import t from 'tap';
import { pino } from 'pino';
import { ServiceMetrics } from '../../core/metrics.js';
import { ModelLoadGate } from '../../core/model-checks.js';
import type { ServedModel } from '../../core/model.js';
import type { LiveBatch } from '../../core/batch-runner.js';
import { Predictor } from '../../core/predictor.js';
import { ShadowScorer } from '../../core/shadow.js';
import { FakeBackend, fakeModel } from '../helpers/fake-backend.js';

const deadline = () => performance.now() + 10_000;
const keepAlive = setInterval(() => undefined, 1_000);
t.teardown(() => clearInterval(keepAlive));

/** The candidate's rule: "good" positive, everything else neutral (it never says negative). */
const candidateLabel = (text: string) => (text.includes('good') ? 2 : 1);

function setup({ load }: { load?: (path: string) => Promise<ServedModel> } = {}) {
  const live = new FakeBackend();
  const metrics = new ServiceMetrics({ depth: () => 0, inFlight: () => 0, capacity: () => 100 });
  const predictor = new Predictor(
    fakeModel(live),
    { maxBatchSize: 64, maxBatchTokens: 4096, maxWaitMs: 5, maxQueue: 100 },
    { maxTextChars: 100, maxClientBatch: 64, requestTimeoutMs: 10_000, explainMaxWords: 8 },
    metrics,
  );
  const candidates: FakeBackend[] = [];
  const loads: string[] = [];
  const shadow = new ShadowScorer({
    predictor, gate: new ModelLoadGate(), metrics, logger: pino({ level: 'silent' }), batchSize: 4, maxRunTokens: 1024,
    load: load ?? (async (path) => {
      loads.push(path);
      const backend = new FakeBackend({ labelOf: candidateLabel });
      candidates.push(backend);
      return fakeModel(backend, { version: 'candidate001' });
    }),
  });
  const metric = async (name: string, labels = '') => {
    const line = (await metrics.registry.metrics()).split('\n').find((row) => row.startsWith(`${name}${labels} `));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };
  return { live, predictor, shadow, candidates, loads, metric };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

/** One text a live batch answered, as offered to the tap. */
async function liveBatch(predictor: Predictor, texts: string[]): Promise<LiveBatch> {
  const set = await predictor.predict(texts, { deadline: deadline() });
  return { texts: texts.map((text) => ({ text, counted: true })), outcomes: set.results, model: set.model, ms: 2 };
}

t.test('no candidate: nothing of it runs', async (t) => {
  const { predictor, shadow, loads } = setup();
  t.equal(shadow.active, false);
  await predictor.predict(['good', 'bad'], { deadline: deadline() });
  t.same(loads, [], 'nothing loaded');
  t.same(shadow.report(), { active: false });
  t.same(await shadow.stop(), { active: false }, 'dropping none is no error');
});

t.test('a candidate scores the live texts after their answers: agreement, confusion table, time per text, metrics', async (t) => {
  const { predictor, shadow, candidates, metric } = setup();
  const started = await shadow.start('/models/candidate', 1);
  t.match(started, { active: true, candidate: { version: 'candidate001', path: '/models/candidate' }, live: { version: 'fake00000001' }, sampleRate: 1, compared: 0, agreement: null });
  const texts = ['good one', 'bad one', 'plain one', 'good two', 'bad two'];
  for (const text of texts) {
    const set = await predictor.predict([text], { deadline: deadline() });
    t.ok(set.results[0], 'the live answer comes first');
  }
  await until(() => shadow.report().compared === 5, 'five comparisons');
  const report = shadow.report();
  t.equal(report.agreement, 3 / 5, 'the candidate disagrees on the two negative texts');
  t.same(report.confusion, {
    negative: { negative: 0, neutral: 0, positive: 0 },
    neutral: { negative: 2, neutral: 1, positive: 0 },
    positive: { negative: 0, neutral: 0, positive: 2 },
  }, 'candidate label, then live label');
  t.equal(report.latencyMs!.live, 1, 'the live batches\' worker time per text (the fake\'s 1 ms batches of one)');
  t.ok(report.latencyMs!.candidate! > 0 && report.latencyMs!.candidate! <= 1, 'the candidate\'s');
  t.same(report.skipped, { live_busy: 0, shadow_full: 0 });
  // Its first batch was the check's test prediction.
  t.same(candidates[0]!.batches.slice(1).flatMap((batch) => batch.texts), texts, 'the candidate read the live texts');
  t.equal(await metric('sentiment_shadow_compared_total'), 5);
  t.equal(await metric('sentiment_shadow_agreed_total'), 3);
  t.equal(await metric('sentiment_shadow_confusion_total', '{candidate="neutral",live="negative"}'), 2);
  const info = `{name="fake",sha256="${'candidate001'.padEnd(64, '0')}"}`;
  t.equal(await metric('sentiment_shadow_model_info', info), 1);

  const last = await shadow.stop();
  t.match(last, { active: false, compared: 5, agreement: 0.6 }, 'dropping it answers its last report');
  t.ok(candidates[0]!.closed, 'its workers stopped');
  await predictor.predict(['good after'], { deadline: deadline() });
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(candidates[0]!.batches.length, 6, 'nothing more is sent to it');
  t.equal(await metric('sentiment_shadow_model_info', info), undefined);
});

t.test('dropped first under load: skipped while the live queue holds texts or its own queue is full', async (t) => {
  const { predictor, shadow, candidates } = setup();
  // Made before the candidate starts: offered by hand below, not by the predictor.
  const batch = await liveBatch(predictor, ['good', 'bad', 'plain']);
  await shadow.start('/models/candidate', 1);
  shadow.offer(batch, 7);
  t.same(shadow.report().skipped, { live_busy: 3, shadow_full: 0 }, 'the live queue is not empty: nothing sampled');
  candidates[0]!.hold = true;
  for (let i = 0; i < 5; i++) shadow.offer(batch, 0);
  // The first offer's 3 texts run at once (one worker); then 8 wait (two batches' worth): of 15, 4 find no room.
  t.same(shadow.report().skipped, { live_busy: 3, shadow_full: 4 });
  t.equal(candidates[0]!.batches.length, 2, 'the check\'s test prediction, then one batch running');
  candidates[0]!.hold = false;
  candidates[0]!.batches[1]!.finish();
  await until(() => shadow.report().compared === 11, 'the queued texts compared');
  await shadow.stop();
});

t.test('a sample of the given rate; explanation variants are never sampled', async (t) => {
  const { predictor, shadow } = setup();
  await shadow.start('/models/candidate', 0.25);
  for (let i = 0; i < 400; i++) await predictor.predict([`plain text ${i}`], { deadline: deadline() });
  await new Promise((resolve) => setTimeout(resolve, 20));
  const { compared, skipped } = shadow.report();
  t.same(skipped, { live_busy: 0, shadow_full: 0 });
  // 400 texts at 0.25: 100 expected, standard deviation 8.7.
  t.ok(compared! > 60 && compared! < 140, `${compared} of 400 texts compared at a rate of 0.25`);
  await shadow.stop();

  await shadow.start('/models/candidate', 1);
  await predictor.predict(['one good word here'], { deadline: deadline(), explain: true });
  await until(() => shadow.report().compared! >= 1, 'a comparison');
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(shadow.report().compared, 1, 'the explained text, not its 4 variants');
  await shadow.stop();
});

t.test('a candidate is checked like a reload; one model load at a time; a new live model starts a new comparison', async (t) => {
  const other = setup({ load: async () => fakeModel(new FakeBackend(), { version: 'otherlabels1' }) });
  const relabelled = fakeModel(new FakeBackend(), { version: 'otherlabels1' });
  (relabelled.description as { labels: readonly string[] }).labels = ['bad', 'meh', 'good'];
  const refused = setup({ load: async () => relabelled });
  await t.rejects(refused.shadow.start('/models/x', 1), { code: 'MODEL_REJECTED', message: /^the shadow candidate was refused: its labels \(bad, good, meh\) differ/ });
  t.equal(refused.shadow.active, false);
  const broken = setup({ load: async () => { throw new Error('model.onnx not found in /models/y'); } });
  await t.rejects(broken.shadow.start('/models/y', 1), { code: 'MODEL_REJECTED', message: 'the shadow candidate was refused: it does not load: model.onnx not found in /models/y' });

  const [first, second] = await Promise.allSettled([other.shadow.start('/a', 1), other.shadow.start('/b', 1)]);
  t.equal(first.status, 'fulfilled');
  t.match(second, { status: 'rejected', reason: { code: 'RELOAD_IN_PROGRESS' } }, 'a second load while one runs: 409');

  const { predictor, shadow } = other;
  await predictor.predict(['good'], { deadline: deadline() });
  await until(() => shadow.report().compared === 1, 'a comparison');
  await predictor.swap(fakeModel(new FakeBackend(), { version: 'fake00000002' }));
  await predictor.predict(['bad', 'good'], { deadline: deadline() });
  await until(() => shadow.report().live?.version === 'fake00000002' && shadow.report().compared === 2, 'a comparison with the new live model');
  t.equal(shadow.report().compared, 2, 'only the new live model\'s texts');
  await shadow.stop();
});
