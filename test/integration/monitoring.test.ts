// What the model predicts, as Prometheus sees it, over real HTTP: predicted labels and the confidence
// histogram per model version, equal to the answers the clients got; truncated texts; and usage per API key,
// by the name given to a key ("NAME KEY") or its id, never the key itself.
import { createHash } from 'node:crypto';
import t from 'tap';
import { CONFIDENCE_BUCKETS } from '../../core/prediction-tally.js';
import { metricSum } from '../helpers/deploy-checks.js';
import { collect, postStream } from '../helpers/ndjson.js';
import { getJson, postJson, startTestService } from '../helpers/service.js';

const TEXTS = ['what a great day', 'the worst delay ever', 'a meeting at noon', 'I love it', 'so sad today', 'ok then'];

t.test('labels, confidence and truncated texts per model version are the answers\' own', async (t) => {
  const server = await startTestService({});
  t.teardown(() => server.close());
  const version = (await getJson(`${server.url}/api/model`)).body.version as string;
  const answers = (await postJson(`${server.url}/api/predict/batch`, { texts: TEXTS })).body.predictions as { label: string; score: number; truncated: boolean }[];
  const long = (await postJson(`${server.url}/api/predict`, { text: 'word '.repeat(600) })).body;
  t.equal(long.truncated, true);
  const all = [...answers, long];
  const text = await (await fetch(`${server.url}/metrics`)).text();

  for (const label of ['negative', 'neutral', 'positive']) {
    t.equal(metricSum(text, 'sentiment_predicted_label_total', { label, model_version: version }), all.filter((a) => a.label === label).length, `${label}: as many as answered`);
  }
  t.equal(metricSum(text, 'sentiment_prediction_confidence_count', { model_version: version }), all.length);
  t.ok(Math.abs(metricSum(text, 'sentiment_prediction_confidence_sum', { model_version: version }) - all.reduce((sum, a) => sum + a.score, 0)) < 1e-5, 'the sum of the top probabilities');
  for (const bound of CONFIDENCE_BUCKETS) {
    t.equal(metricSum(text, 'sentiment_prediction_confidence_bucket', { model_version: version, le: String(bound) }), all.filter((a) => a.score <= bound).length, `le=${bound}`);
  }
  t.equal(metricSum(text, 'sentiment_prediction_confidence_bucket', { model_version: version, le: '+Inf' }), all.length);
  t.equal(metricSum(text, 'sentiment_truncated_texts_total', { model_version: version }), 1, 'the one text cut to the model\'s length');
  t.match(text, /# TYPE sentiment_prediction_confidence histogram/);
});

t.test('usage per API key: by its name, or its id, never the key; only answered requests', async (t) => {
  const server = await startTestService({ API_KEYS: 'acme key-of-acme, key-without-name', ADMIN_API_KEYS: 'ops admin-key-1' });
  t.teardown(() => server.close());
  const acme = { authorization: 'Bearer key-of-acme' };
  await postJson(`${server.url}/api/predict`, { text: TEXTS[0] }, acme);
  await postJson(`${server.url}/api/predict/batch`, { texts: TEXTS.slice(0, 3) }, acme);
  await postJson(`${server.url}/predict`, { inputs: [[TEXTS[0]], [TEXTS[1]]] }, acme);
  const stream = await postStream(server.url, `${JSON.stringify({ text: 'a' })}\nnot json\n${JSON.stringify({ text: 'b' })}\n`, { headers: acme });
  t.equal((await collect(stream.lines)).length, 3);
  t.equal((await postJson(`${server.url}/api/predict`, { text: '' }, acme)).status, 400, 'a refused request');
  await postJson(`${server.url}/api/predict`, { text: TEXTS[1] }, { 'x-api-key': 'key-without-name' });
  await postJson(`${server.url}/v2/models/sentiment/infer`, { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['hi'] }] }, { authorization: 'Bearer admin-key-1' });

  const text = await (await fetch(`${server.url}/metrics`)).text();
  t.equal(metricSum(text, 'sentiment_key_requests_total', { key: 'acme' }), 4, 'answered requests: single, batch, TEI and the stream, not the refused one');
  t.equal(metricSum(text, 'sentiment_key_texts_total', { key: 'acme' }), 1 + 3 + 2 + 2, 'their texts: the stream\'s answered lines');
  const id = createHash('sha256').update('key-without-name').digest('hex').slice(0, 16);
  t.equal(metricSum(text, 'sentiment_key_requests_total', { key: id }), 1, 'an unnamed key by its id');
  t.equal(metricSum(text, 'sentiment_key_texts_total', { key: 'ops' }), 1, 'admin keys are named the same way');
  for (const secret of ['key-of-acme', 'key-without-name', 'admin-key-1']) t.notOk(text.includes(secret), `no key in the metrics (${secret.slice(0, 3)}…)`);

  const open = await startTestService({});
  t.teardown(() => open.close());
  await postJson(`${open.url}/api/predict`, { text: 'hi' });
  t.equal(metricSum(await (await fetch(`${open.url}/metrics`)).text(), 'sentiment_key_requests_total', { key: 'anonymous' }), 1, 'no keys configured: anonymous');
});
