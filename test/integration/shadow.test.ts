// Shadow scoring over real HTTP and real workers: the admin API loads a candidate (bert-tiny-v2) beside the
// live model (bert-tiny), which then scores the live texts too; GET reports the texts compared, the
// agreement and the confusion table, checked against the candidate's own answers (served apart); the live
// answers are the ones the service gives without a candidate; DELETE drops it; SHADOW_MODEL_PATH loads one
// at start-up; bad requests get 4xx.
import t from 'tap';
import { waitUntil } from '../../deploy/local-stack.js';
import { metricSum } from '../helpers/deploy-checks.js';
import { assertSamePrediction } from '../helpers/predictions.js';
import { FIXTURES, postJson, startTestService } from '../helpers/service.js';

const ADMIN = { authorization: 'Bearer admin-key' };
const CLIENT = { authorization: 'Bearer client-key' };
const CANDIDATE = `${FIXTURES}bert-tiny-v2`;
const TEXTS = Array.from({ length: 24 }, (_, i) => [`what a great day number ${i}`, `the worst delay ever, number ${i}`, `a meeting at ${i} pm`][i % 3]!);

async function request(url: string, method: string, body?: unknown, headers: Record<string, string> = ADMIN) {
  const response = await fetch(url, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: await response.json() as any };
}

t.test('a candidate scores the live texts off the request path; GET reports how it compares; DELETE drops it', async (t) => {
  const candidateAlone = await startTestService({ MODEL_PATH: CANDIDATE });
  const candidateLabels = ((await postJson(`${candidateAlone.url}/api/predict/batch`, { texts: TEXTS })).body.predictions as { label: string }[]).map((p) => p.label);
  await candidateAlone.close();

  const server = await startTestService({ API_KEYS: 'client-key', ADMIN_API_KEYS: 'admin-key' });
  t.teardown(() => server.close());
  const shadowUrl = `${server.url}/api/admin/shadow`;
  const reference = (await postJson(`${server.url}/api/predict/batch`, { texts: TEXTS }, CLIENT)).body.predictions;

  t.equal((await request(shadowUrl, 'GET', undefined, {})).status, 401, 'no key: 401');
  t.equal((await request(shadowUrl, 'GET', undefined, CLIENT)).status, 403, 'a client key: 403');
  t.same((await request(shadowUrl, 'GET')).body, { active: false }, 'no candidate');

  const loaded = await request(shadowUrl, 'POST', { model_path: CANDIDATE, sample_rate: 1 });
  t.equal(loaded.status, 200);
  t.match(loaded.body, { active: true, candidate: { name: 'bert-tiny-fixture-v2', path: CANDIDATE }, live: { name: 'bert-tiny-fixture' }, sampleRate: 1, compared: 0 });

  // One at a time: the live queue is empty after each, so every text is sampled.
  const live = [];
  for (const text of TEXTS) live.push((await postJson(`${server.url}/api/predict`, { text }, CLIENT)).body);
  live.forEach((answer, i) => assertSamePrediction(t, answer, reference[i], `answer ${i} is the one given without a candidate`));
  await waitUntil(async () => (await request(shadowUrl, 'GET')).body.compared === TEXTS.length, { timeoutMs: 10_000, what: 'every text compared' });

  const report = (await request(shadowUrl, 'GET')).body;
  const agreed = live.filter((answer, i) => answer.label === candidateLabels[i]).length;
  t.equal(report.agreement, agreed / TEXTS.length, `agreement ${agreed} of ${TEXTS.length}, as the two models answer apart`);
  const confusion: Record<string, Record<string, number>> = {};
  for (const candidate of ['negative', 'neutral', 'positive']) confusion[candidate] = { negative: 0, neutral: 0, positive: 0 };
  live.forEach((answer, i) => { confusion[candidateLabels[i]!]![answer.label]!++; });
  t.same(report.confusion, confusion, 'the confusion table: candidate label, then live label');
  t.ok(report.latencyMs.live > 0 && report.latencyMs.candidate > 0, `time per text: live ${report.latencyMs.live} ms, candidate ${report.latencyMs.candidate} ms`);
  t.same(report.skipped, { live_busy: 0, shadow_full: 0 });

  const text = await (await fetch(`${server.url}/metrics`)).text();
  t.equal(metricSum(text, 'sentiment_shadow_compared_total'), TEXTS.length);
  t.equal(metricSum(text, 'sentiment_shadow_agreed_total'), agreed);
  t.equal(metricSum(text, 'sentiment_shadow_confusion_total'), TEXTS.length);
  t.equal(metricSum(text, 'sentiment_shadow_model_info', { name: 'bert-tiny-fixture-v2' }), 1);
  t.equal(metricSum(text, 'sentiment_predicted_label_total'), 2 * TEXTS.length, 'the candidate\'s answers are not the service\'s predictions');

  const dropped = await request(shadowUrl, 'DELETE');
  t.equal(dropped.status, 200);
  t.match(dropped.body, { active: false, compared: TEXTS.length, agreement: agreed / TEXTS.length }, 'its last report');
  t.same((await request(shadowUrl, 'GET')).body, { active: false });
  await postJson(`${server.url}/api/predict`, { text: 'after the candidate left' }, CLIENT);
  const later = await (await fetch(`${server.url}/metrics`)).text();
  t.equal(metricSum(later, 'sentiment_shadow_compared_total'), TEXTS.length, 'nothing compared once it is dropped');
  t.equal(metricSum(later, 'sentiment_shadow_model_info'), 0);
});

t.test('bad candidates and bad requests get 4xx; one load at a time; SHADOW_MODEL_PATH at start-up', async (t) => {
  const server = await startTestService({ ADMIN_API_KEYS: 'admin-key' });
  t.teardown(() => server.close());
  const shadowUrl = `${server.url}/api/admin/shadow`;
  const missing = await request(shadowUrl, 'POST', { model_path: '/nonexistent/model' });
  t.equal(missing.status, 422);
  t.match(missing.body, { code: 'MODEL_REJECTED', message: /^the shadow candidate was refused: it does not load: model not found at \/nonexistent\/model/ });
  const otherLabels = await request(shadowUrl, 'POST', { model_path: `${FIXTURES}roberta-tiny` });
  t.equal(otherLabels.status, 422);
  t.match(otherLabels.body.message, /its labels \(LABEL_0, LABEL_1, LABEL_2\) differ from the served model's/);
  for (const body of [{}, { model_path: '' }, { model_path: CANDIDATE, sample_rate: 0 }, { model_path: CANDIDATE, sample_rate: 1.5 }, { model_path: CANDIDATE, extra: 1 }]) {
    const bad = await request(shadowUrl, 'POST', body);
    t.equal(bad.status, 400, `${JSON.stringify(body)}: 400`);
    t.equal(bad.body.code, 'FST_ERR_VALIDATION');
  }
  const [first, second] = await Promise.all([request(shadowUrl, 'POST', { model_path: CANDIDATE }), request(shadowUrl, 'POST', { model_path: CANDIDATE })]);
  t.same([first.status, second.status].sort(), [200, 409], 'a second load while one runs: 409');
  t.equal((first.status === 409 ? first : second).body.code, 'RELOAD_IN_PROGRESS');
  t.equal((await request(shadowUrl, 'GET')).body.sampleRate, 0.1, 'SHADOW_SAMPLE_RATE\'s default when the request names none');
  await request(shadowUrl, 'DELETE');

  const atStart = await startTestService({ ADMIN_API_KEYS: 'admin-key', SHADOW_MODEL_PATH: CANDIDATE, SHADOW_SAMPLE_RATE: '0.5', SHADOW_WORKERS: '1' });
  t.teardown(() => atStart.close());
  t.match((await request(`${atStart.url}/api/admin/shadow`, 'GET')).body, { active: true, candidate: { name: 'bert-tiny-fixture-v2' }, sampleRate: 0.5 }, 'SHADOW_MODEL_PATH loads it at start-up');
  await t.rejects(startTestService({ SHADOW_MODEL_PATH: `${FIXTURES}roberta-tiny` }), { message: /^SHADOW_MODEL_PATH: the shadow candidate was refused: its labels/ }, 'a bad one stops start-up');
});
