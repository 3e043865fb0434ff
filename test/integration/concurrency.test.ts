// Batching must never mix up results: 200 requests at once, of varied texts and lengths, each answered
// exactly as the same text is answered alone.
import t from 'tap';
import { validationTexts } from '../helpers/data.js';
import { samePrediction } from '../helpers/predictions.js';
import { postJson, startTestService } from '../helpers/service.js';

const validation = validationTexts();

t.test('200 parallel requests each get the single-request answer for their own text', async (t) => {
  const server = await startTestService({ MAX_BATCH_SIZE: '16', MAX_BATCH_WAIT_MS: '5' });
  t.teardown(() => server.close());
  // 150 distinct tweets of varied length, 50 repeats, and a few very long texts that get truncated.
  const texts = [...validation.slice(0, 150), ...validation.slice(0, 50), ...Array.from({ length: 5 }, (_, i) => `${validation[i]} `.repeat(Math.floor(4000 / (validation[i]!.length + 1))))];
  const expected = [];
  for (const text of new Set(texts)) {
    const res = await postJson(`${server.url}/api/predict`, { text });
    t.equal(res.status, 200);
    expected.push([text, res.body] as const);
  }
  const alone = new Map(expected);

  const responses = await Promise.all(texts.map((text) => postJson(`${server.url}/api/predict`, { text })));
  let mismatches = 0;
  responses.forEach((res, i) => {
    if (res.status !== 200 || !samePrediction(res.body, alone.get(texts[i]!))) mismatches++;
  });
  t.equal(mismatches, 0, 'every concurrent answer equals the lone answer for its text');

  // The requests were really batched together, not served one by one.
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  const sum = Number(/^sentiment_batch_size_sum (\S+)/m.exec(metrics)![1]);
  const count = Number(/^sentiment_batch_size_count (\S+)/m.exec(metrics)![1]);
  t.ok(count < sum, `batches held several texts (${sum} texts in ${count} batches)`);
  t.ok(responses.some((res) => res.body.truncated === true), 'long texts were truncated');
});

t.test('batch calls running at once each get their own texts back, in order', async (t) => {
  const server = await startTestService({ MAX_BATCH_SIZE: '32' });
  t.teardown(() => server.close());
  const calls = Array.from({ length: 20 }, (_, k) => validation.slice(k * 7, k * 7 + 1 + (k % 10)));
  const alone = new Map<string, any>();
  for (const text of new Set(calls.flat())) alone.set(text, (await postJson(`${server.url}/api/predict`, { text })).body);
  const responses = await Promise.all(calls.map((texts) => postJson(`${server.url}/api/predict/batch`, { texts })));
  let mismatches = 0;
  responses.forEach((res, k) => {
    t.equal(res.status, 200, `batch call ${k}: ${res.status === 200 ? 'answered' : JSON.stringify(res.body)}`);
    t.equal(res.body.predictions?.length, calls[k]!.length);
    (res.body.predictions ?? []).forEach((prediction: any, i: number) => {
      if (!samePrediction(prediction, alone.get(calls[k]![i]!))) mismatches++;
    });
  });
  t.equal(mismatches, 0);
});

t.test('requests whose client hung up while queued are dropped before inference', async (t) => {
  // One worker running one text at a time on the slow fixture, so that requests queue up.
  const server = await startTestService({ MODEL_PATH: new URL('../fixtures/slow-tiny', import.meta.url).pathname, WORKERS: '1', MAX_BATCH_SIZE: '1' });
  t.teardown(() => server.close());
  const controllers = Array.from({ length: 40 }, () => new AbortController());
  const kept = Array.from({ length: 10 }, (_, i) => postJson(`${server.url}/api/predict`, { text: `kept ${i}` }));
  const abandoned = controllers.map((controller, i) => fetch(`${server.url}/api/predict`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `abandoned ${i}` }), signal: controller.signal,
  }).catch(() => 'aborted'));
  while (server.service.predictor.queueDepth < 20) await new Promise((resolve) => setTimeout(resolve, 2));
  for (const controller of controllers) controller.abort();
  await Promise.all(abandoned);
  const answers = await Promise.all(kept);
  t.ok(answers.every((res) => res.status === 200), 'the requests of clients still there are answered');
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  const dropped = Number(/^sentiment_rejections_total\{reason="aborted"\} (\S+)/m.exec(metrics)![1]);
  const ran = Number(/^sentiment_batch_size_sum (\S+)/m.exec(metrics)![1]);
  t.ok(dropped >= 10, `${dropped} abandoned texts were dropped before inference`);
  t.ok(ran <= 50 - dropped, `only ${ran} texts ran`);
});
