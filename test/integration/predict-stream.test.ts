// POST /api/predict/stream over real HTTP against the real service (bert-tiny fixture): answers in input
// order equal to /api/predict's, bad lines answered with /api/predict's codes and the stream going on,
// on_error=stop, answers streamed before the body ends, a client that leaves, access and metrics.
import t from 'tap';
import { metricSum } from '../helpers/deploy-checks.js';
import { validationTexts } from '../helpers/data.js';
import { collect, generatedLines, pingPongIds, postStream } from '../helpers/ndjson.js';
import { samePrediction } from '../helpers/predictions.js';
import { startTestService } from '../helpers/service.js';

const BODY_LIMIT = 65_536;
const server = await startTestService({ BODY_LIMIT: String(BODY_LIMIT) });
t.teardown(() => server.close());
const { url } = server;
const texts = validationTexts();

t.test('the 2,000 validation tweets: one answer per line, in order, ids echoed, equal to /api/predict', async (t) => {
  const body = texts.map((text, i) => `${JSON.stringify({ id: `v${i}`, text })}\n`).join('');
  const answer = await postStream(url, body);
  t.equal(answer.status, 200);
  t.match(answer.headers['content-type'], /^application\/x-ndjson/);
  const lines = await collect(answer.lines);
  t.equal(lines.length, texts.length, 'one answer per input line');
  const sent: any[] = [];
  for (let start = 0; start < texts.length; start += 50) {
    sent.push(...await Promise.all(texts.slice(start, start + 50).map(async (text) => (await fetch(`${url}/api/predict`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }),
    })).json())));
  }
  let same = 0;
  let idsInOrder = 0;
  lines.forEach((line, i) => {
    if (line.id === `v${i}`) idsInOrder++;
    const { id: _id, ...prediction } = line;
    if (samePrediction(prediction, sent[i])) same++;
  });
  t.equal(idsInOrder, texts.length, 'every id in input order');
  t.equal(same, texts.length, 'every prediction equals /api/predict\'s for the same text (labels exact, scores within 1e-5)');
});

t.test('bad lines: an error line with its line number and /api/predict\'s code; the rest answered', async (t) => {
  const bad: Record<number, string> = {
    2: 'not json',
    4: '{"text": ""}',
    5: '{"text": "a\\u0000b"}',
    6: '',
    7: '{"text": "   "}',
    8: '{"txt": "x"}',
    9: `{"text": "${'a'.repeat(5001)}"}`,
    10: '{"text": "\\ud800 lone"}',
    11: '{"text": 42}',
    12: `{"text": "${'b'.repeat(BODY_LIMIT)}"}`,
    14: '[1, 2]',
  };
  const count = 16;
  const lines: string[] = [];
  for (let n = 1; n <= count; n++) lines.push(bad[n] ?? JSON.stringify({ text: texts[n]! }));
  const answer = await postStream(url, `${lines.join('\n')}\n`);
  const answers = await collect(answer.lines);
  t.equal(answers.length, count, 'one answer per line, bad ones included');
  for (let n = 1; n <= count; n++) {
    const got = answers[n - 1];
    if (bad[n] === undefined) {
      t.equal(got.error, undefined, `line ${n} is answered`);
      t.type(got.label, 'string');
      continue;
    }
    // The same line sent alone as the body of POST /api/predict.
    const single = await fetch(`${url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bad[n] });
    const expected = await single.json() as { code: string };
    t.same({ line: got.line, code: got.error?.code }, { line: n, code: expected.code }, `line ${n}: ${expected.code}, as /api/predict answers it`);
    t.type(got.error?.message, 'string');
  }
});

t.test('?on_error=stop ends the answer at the first bad line', async (t) => {
  const answer = await postStream(url, '{"text":"fine"}\n{"text":"also fine"}\nnot json\n{"text":"never answered"}\n', { query: '?on_error=stop' });
  const answers = await collect(answer.lines);
  t.equal(answers.length, 3);
  t.equal(answers[2].line, 3);
  t.equal(answers[2].error.code, 'FST_ERR_CTP_INVALID_JSON_BODY');
  const refused = await fetch(`${url}/api/predict/stream?on_error=maybe`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{"text":"x"}\n' });
  t.equal(refused.status, 400);
  const json = await fetch(`${url}/api/predict/stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"x"}' });
  t.equal(json.status, 415, 'a JSON body is refused: the route reads NDJSON');
});

t.test('answers are streamed: each line is answered before the next one is sent', async (t) => {
  t.same(await pingPongIds(url, texts), [0, 1, 2, 3, 4], 'five round trips on one request: nothing waited for the end of the body');
});

t.test('a client that goes away mid-stream: its texts leave the queue within a second; the service goes on', async (t) => {
  const answer = await postStream(url, generatedLines(1_000_000));
  let seen = 0;
  for await (const _ of answer.lines) if (++seen >= 2_000) break;
  answer.destroy();
  const gone = performance.now();
  let depth = server.service.predictor.queueDepth;
  while (depth > 0 && performance.now() - gone < 1_000) {
    await new Promise((r) => setTimeout(r, 10));
    depth = server.service.predictor.queueDepth;
  }
  t.equal(depth, 0, `queue empty ${Math.round(performance.now() - gone)} ms after the disconnect`);
  const after = await fetch(`${url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'still here' }) });
  t.equal(after.status, 200, 'the service keeps serving');
});

t.test('API keys and the rate limit: one stream is one request; its texts are counted in the metrics', async (t) => {
  const guarded = await startTestService({ API_KEYS: 'k1', RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW: '60000' });
  t.teardown(() => guarded.close());
  const refused = await postStream(guarded.url, '{"text":"x"}\n');
  t.equal(refused.status, 401, 'no key: 401');
  await collect(refused.lines).catch(() => undefined);
  const before = metricSum(await (await fetch(`${guarded.url}/metrics`)).text(), 'sentiment_predicted_label_total');
  for (let i = 0; i < 2; i++) {
    const ok = await postStream(guarded.url, generatedLines(300), { headers: { authorization: 'Bearer k1' } });
    t.equal(ok.status, 200, `stream ${i + 1} of 300 lines is one request`);
    t.equal((await collect(ok.lines)).length, 300);
  }
  const after = metricSum(await (await fetch(`${guarded.url}/metrics`)).text(), 'sentiment_predicted_label_total');
  t.equal(after - before, 600, 'sentiment_predicted_label_total counts every text of the streams');
  const limited = await postStream(guarded.url, '{"text":"x"}\n', { headers: { 'x-api-key': 'k1' } });
  t.equal(limited.status, 429, 'the third request in the window is rate limited');
  await collect(limited.lines).catch(() => undefined);
});

t.test('per-text deadline: lines that wait past REQUEST_TIMEOUT_MS get DEADLINE_EXCEEDED, and the stream goes on', async (t) => {
  // One worker running one text at a time on the slow fixture: a chunk's later texts outlive its deadline.
  // MAX_QUEUE set: left unset, it would be sized to what drains within half the deadline (core/batch-budget.ts)
  // and the stream's window with it, so that no text outlives its deadline, which is not what this tests.
  const slow = await startTestService({ MODEL_PATH: new URL('../fixtures/slow-tiny', import.meta.url).pathname, WORKERS: '1', MAX_BATCH_SIZE: '1', REQUEST_TIMEOUT_MS: '100', MAX_QUEUE: '2048' });
  t.teardown(() => slow.close());
  const answer = await postStream(slow.url, generatedLines(200));
  const answers = await collect(answer.lines);
  t.equal(answers.length, 200, 'every line answered');
  const late = answers.filter((line) => line.error?.code === 'DEADLINE_EXCEEDED');
  const scored = answers.filter((line) => typeof line.label === 'string');
  t.ok(late.length > 0 && scored.length > 0, `${scored.length} scored, ${late.length} past their deadline`);
  t.equal(late.length + scored.length, 200, 'nothing else');
  t.ok(late.every((line) => line.line === line.id + 1), 'each late line names its own line number (and echoes its id)');
  t.ok(answers.every((line, i) => line.id === i), 'in order');
});

t.test('closing the service ends a stream whose body is still coming: answered lines, then SHUTTING_DOWN', async (t) => {
  const closing = await startTestService();
  let release: () => void = () => undefined;
  const never = new Promise<void>((resolve) => { release = resolve; });
  async function* tenThenStall(): AsyncGenerator<string> {
    for (let i = 0; i < 10; i++) yield `${JSON.stringify({ id: i, text: texts[i] })}\n`;
    await never; // a client that sends nothing more (a stalled upload)
  }
  const answer = await postStream(closing.url, tenThenStall());
  const answers: any[] = [];
  // next(), not a for-await with break: breaking would close the reader before the last line.
  while (answers.length < 10) answers.push((await answer.lines.next()).value);
  const started = performance.now();
  const closed = closing.close();
  const rest = await collect(answer.lines).catch(() => []);
  await closed;
  release();
  const ms = performance.now() - started;
  t.ok(ms < 2_000, `close() took ${Math.round(ms)} ms: it did not wait for the body`);
  t.ok(answers.every((line, i) => line.id === i && typeof line.label === 'string'), 'the 10 lines read were answered');
  t.same(rest.map((line) => [line.line, line.error?.code]), [[11, 'SHUTTING_DOWN']], 'then one line: from line 11 on, send again');
});
