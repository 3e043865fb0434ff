// Every route and every error over real HTTP, against the real service serving a real ONNX model.
import t, { type Test } from 'tap';
import { assertSamePrediction } from '../helpers/predictions.js';
import { getJson, postJson, startTestService } from '../helpers/service.js';

const server = await startTestService({ MAX_CLIENT_BATCH: '4', MAX_TEXT_CHARS: '100', BODY_LIMIT: '2048' });
t.teardown(() => server.close());
const { url } = server;

function isErrorBody(t: Test, body: any, statusCode: number, code: string) {
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'requestId', 'statusCode'], 'error body shape');
  t.type(body.requestId, 'string');
  t.equal(body.statusCode, statusCode);
  t.equal(body.code, code);
  t.type(body.error, 'string');
  t.type(body.message, 'string');
  t.notMatch(body.message, /\/work\/|node_modules|at .*\(/, 'no internal paths or stack frames');
}

t.test('GET /api/health answers the seed response', async (t) => {
  const res = await getJson(`${url}/api/health`);
  t.equal(res.status, 200);
  t.same(res.body, { status: 'healthy', message: 'API is running' });
});

t.test('GET /api/ready is 200 with the queue state', async (t) => {
  const res = await getJson(`${url}/api/ready`);
  t.equal(res.status, 200);
  t.same(res.body, { status: 'ready', queueDepth: 0, maxQueue: 2048 });
});

t.test('GET /api/model describes the model', async (t) => {
  const res = await getJson(`${url}/api/model`);
  t.equal(res.status, 200);
  t.equal(res.body.name, 'bert-tiny-fixture');
  t.same(res.body.labels, ['negative', 'neutral', 'positive']);
  t.equal(res.body.maxTokens, 512);
  t.equal(res.body.device, 'cpu');
  t.same(res.body.executionProviders, ['cpu']);
  t.match(res.body.sha256, /^[0-9a-f]{64}$/);
  t.equal(res.body.version, res.body.sha256.slice(0, 12));
  t.ok(Date.parse(res.body.loadedAt) <= Date.now());
  t.equal(res.body.file, 'model.onnx');
  t.equal(res.body.dtype, 'fp32');
});

t.test('POST /api/predict returns label, score, every label\'s softmax score, truncation and timings', async (t) => {
  const res = await postJson(`${url}/api/predict`, { text: 'I love this!' });
  t.equal(res.status, 200);
  const { label, score, scores, truncated } = res.body;
  t.same(Object.keys(scores), ['negative', 'neutral', 'positive']);
  const sum = Object.values<number>(scores).reduce((a, b) => a + b, 0);
  t.ok(Math.abs(sum - 1) < 1e-5, 'scores sum to 1');
  t.equal(score, Math.max(...Object.values<number>(scores)));
  t.equal(scores[label], score);
  t.equal(truncated, false);
  for (const header of ['x-queue-time', 'x-inference-time', 'x-total-time']) {
    t.match(res.headers.get(header), /^\d+\.\d{3}$/, `${header} in ms`);
  }
  t.ok(Number(res.headers.get('x-total-time')) >= Number(res.headers.get('x-inference-time')));
  const model = await getJson(`${url}/api/model`);
  t.equal(res.headers.get('x-model-version'), model.body.version);
});

t.test('POST /api/predict/batch answers each text in order, as single calls do', async (t) => {
  const texts = ['great game tonight', 'this is awful', 'the meeting is at 3pm', 'great game tonight'];
  const res = await postJson(`${url}/api/predict/batch`, { texts });
  t.equal(res.status, 200);
  t.equal(res.body.predictions.length, 4);
  for (const [i, text] of texts.entries()) {
    const single = await postJson(`${url}/api/predict`, { text });
    assertSamePrediction(t, res.body.predictions[i], single.body, `text ${i}`);
  }
  assertSamePrediction(t, res.body.predictions[0], res.body.predictions[3], 'a repeated text');
});

t.test('a text longer than the model accepts is truncated, and says so', async (t) => {
  // 100 chars allowed here, but MAX_TOKENS is the model's 512: use a text of many tokens within 100 chars.
  const limited = await startTestService({ MAX_TOKENS: '8' });
  t.teardown(() => limited.close());
  const long = await postJson(`${limited.url}/api/predict`, { text: 'one two three four five six seven eight nine ten' });
  t.equal(long.status, 200);
  t.equal(long.body.truncated, true);
  const short = await postJson(`${limited.url}/api/predict`, { text: 'one two' });
  t.equal(short.body.truncated, false);
  // Truncation keeps the first tokens: the answer equals that of the text cut to 6 words (+ [CLS] and [SEP]).
  const cut = await postJson(`${limited.url}/api/predict`, { text: 'one two three four five six' });
  t.same(long.body.scores, cut.body.scores);
});

t.test('bad inputs get a clear 4xx JSON error', async (t) => {
  const cases: [string, string, unknown, number, string][] = [
    ['missing text', '/api/predict', {}, 400, 'FST_ERR_VALIDATION'],
    ['text not a string', '/api/predict', { text: 42 }, 400, 'FST_ERR_VALIDATION'],
    ['text null', '/api/predict', { text: null }, 400, 'FST_ERR_VALIDATION'],
    ['text an array', '/api/predict', { text: ['a'] }, 400, 'FST_ERR_VALIDATION'],
    ['empty text', '/api/predict', { text: '' }, 400, 'FST_ERR_VALIDATION'],
    ['whitespace text', '/api/predict', { text: ' \n\t ' }, 400, 'INVALID_TEXT'],
    ['NUL in text', '/api/predict', { text: 'a\u0000b' }, 400, 'INVALID_TEXT'],
    ['lone surrogate', '/api/predict', '{"text":"bad \\ud800 text"}', 400, 'INVALID_TEXT'],
    ['unknown field', '/api/predict', { text: 'ok', extra: 1 }, 400, 'FST_ERR_VALIDATION'],
    ['body an array', '/api/predict', [], 400, 'FST_ERR_VALIDATION'],
    ['invalid JSON', '/api/predict', '{"text": ', 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
    ['prototype pollution', '/api/predict', '{"text":"x","__proto__":{"polluted":true}}', 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
    ['text too long', '/api/predict', { text: 'x'.repeat(101) }, 413, 'TEXT_TOO_LONG'],
    ['missing texts', '/api/predict/batch', {}, 400, 'FST_ERR_VALIDATION'],
    ['empty texts', '/api/predict/batch', { texts: [] }, 400, 'FST_ERR_VALIDATION'],
    ['texts not array', '/api/predict/batch', { texts: 'a' }, 400, 'FST_ERR_VALIDATION'],
    ['a text not a string', '/api/predict/batch', { texts: ['a', 1] }, 400, 'FST_ERR_VALIDATION'],
    ['an empty text in a batch', '/api/predict/batch', { texts: ['a', ''] }, 400, 'FST_ERR_VALIDATION'],
    ['a whitespace text in a batch', '/api/predict/batch', { texts: ['a', '   '] }, 400, 'INVALID_TEXT'],
    ['too many texts', '/api/predict/batch', { texts: ['a', 'b', 'c', 'd', 'e'] }, 413, 'TOO_MANY_TEXTS'],
    ['a text too long in a batch', '/api/predict/batch', { texts: ['a', 'y'.repeat(101)] }, 413, 'TEXT_TOO_LONG'],
    ['body too large', '/api/predict/batch', { texts: ['z'.repeat(100), 'z'.repeat(100)], pad: 'p'.repeat(3000) }, 413, 'FST_ERR_CTP_BODY_TOO_LARGE'],
  ];
  for (const [name, path, body, status, code] of cases) {
    const res = await postJson(`${url}${path}`, body);
    t.equal(res.status, status, `${name}: status`);
    isErrorBody(t, res.body, status, code);
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
});

t.test('the messages say what is wrong', async (t) => {
  const long = await postJson(`${url}/api/predict/batch`, { texts: ['a', 'y'.repeat(150)] });
  t.equal(long.body.message, 'texts.1 has 150 characters; the limit is 100 (MAX_TEXT_CHARS)');
  const many = await postJson(`${url}/api/predict/batch`, { texts: ['a', 'b', 'c', 'd', 'e'] });
  t.equal(many.body.message, 'texts holds 5 texts; the limit is 4 (MAX_CLIENT_BATCH)');
  const blank = await postJson(`${url}/api/predict/batch`, { texts: ['a', '  '] });
  t.equal(blank.body.message, 'texts.1 is only whitespace');
});

t.test('MAX_TEXT_CHARS counts characters, not UTF-16 units: 100 emoji are accepted', async (t) => {
  const res = await postJson(`${url}/api/predict`, { text: '😀'.repeat(100) });
  t.equal(res.status, 200);
});

t.test('a wrong content type gets 415, an unknown route 404, a wrong method 405, all in JSON', async (t) => {
  const text = await fetch(`${url}/api/predict`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
  t.equal(text.status, 415);
  isErrorBody(t, await text.json(), 415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE');
  const missing = await getJson(`${url}/api/nothing?x=1`);
  t.equal(missing.status, 404);
  isErrorBody(t, missing.body, 404, 'NOT_FOUND');
  t.equal(missing.body.message, 'Route GET /api/nothing not found');
  const method = await getJson(`${url}/api/predict`);
  t.equal(method.status, 405);
  t.equal(method.headers.get('allow'), 'POST', 'Allow names the method the path takes');
  isErrorBody(t, method.body, 405, 'METHOD_NOT_ALLOWED');
});

t.test('GET /metrics exposes the service metrics in Prometheus text', async (t) => {
  await postJson(`${url}/api/predict`, { text: 'count me' });
  const res = await fetch(`${url}/metrics`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /text\/plain/);
  const text = await res.text();
  for (const name of [
    'http_request_duration_seconds_bucket', 'sentiment_queue_depth', 'sentiment_batch_size_bucket', 'sentiment_batch_padded_tokens_bucket',
    'sentiment_queue_wait_seconds_bucket', 'sentiment_tokenization_seconds_bucket', 'sentiment_inference_seconds_bucket',
    'sentiment_rejections_total', 'sentiment_predicted_label_total', 'sentiment_prediction_confidence_bucket', 'sentiment_truncated_texts_total', 'sentiment_model_info', 'process_resident_memory_bytes',
    'nodejs_eventloop_lag_seconds', 'sentiment_tokens_total',
  ]) t.match(text, new RegExp(`^${name}`, 'm'), name);
  t.match(text, /http_request_duration_seconds_count\{[^}]*route="\/api\/predict"[^}]*status_code="200"[^}]*\} [1-9]/);
  t.match(text, /sentiment_model_info\{name="bert-tiny-fixture",sha256="[0-9a-f]{64}",device="cpu",provider="cpu"\} 1/);
  t.match(text, /sentiment_predicted_label_total\{label="(negative|neutral|positive)",model_version="[0-9a-f]{12}"\} [1-9]/);
});

t.test('GET /docs serves the OpenAPI document generated from the route schemas', async (t) => {
  const ui = await fetch(`${url}/docs`);
  t.equal(ui.status, 200);
  const doc = await getJson(`${url}/docs/json`);
  t.equal(doc.status, 200);
  t.equal(doc.body.openapi, '3.0.3');
  // The service's own routes; the protocol routes' entries are checked in test/integration/tei.test.ts.
  t.same(Object.keys(doc.body.paths).filter((path) => path.startsWith('/api/')).sort(), ['/api/admin/reload', '/api/admin/shadow', '/api/health', '/api/model', '/api/predict', '/api/predict/batch', '/api/predict/stream', '/api/ready']);
  t.same(Object.keys(doc.body.paths['/api/admin/shadow']).sort(), ['delete', 'get', 'post'], 'the shadow candidate\'s admin routes');
  t.same(doc.body.paths['/api/admin/shadow'].post.requestBody.content['application/json'].schema.required, ['model_path']);
  const predict = doc.body.paths['/api/predict'].post;
  t.equal(predict.requestBody.content['application/json'].schema.properties.text.maxLength, 100);
  t.ok(predict.responses['200'].headers['x-model-version'], 'timing headers documented');
  const batch = doc.body.paths['/api/predict/batch'].post;
  t.equal(batch.requestBody.content['application/json'].schema.properties.texts.maxItems, 4);
});
