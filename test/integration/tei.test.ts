// The TEI-compatible routes (POST /predict and /, GET /health and /info, POST /tokenize and /decode) over real
// HTTP against the real service and a real ONNX model; every response validated against TEI's openapi.json.
import t, { type Test } from 'tap';
import { callChecked, softmax, sortedDescending, type CheckedResponse, type SpecRoute } from '../helpers/protocol-calls.js';
import { SCORE_TOLERANCE } from '../helpers/predictions.js';
import { getJson, postJson, startTestService } from '../helpers/service.js';
import { SpecValidator } from '../helpers/spec-validator.js';

const tei = SpecValidator.tei();
const route = (specPath: string): SpecRoute => ({ validator: tei, specPath, errorSchema: 'ErrorResponse' });
const server = await startTestService({ MAX_CLIENT_BATCH: '8' });
t.teardown(() => server.close());
const { url } = server;
const LABELS = ['negative', 'neutral', 'positive'];
const TEXTS = ['I love this new phone!', 'worst customer service ever', 'the meeting moved to 3pm', 'not bad at all'];

const predict = (t: Test, body: unknown, path = '/predict', headers: Record<string, string> = {}) =>
  callChecked(t, `${url}${path}`, 'POST', route('/predict'), body, headers);

function sameScores(t: Test, actual: { label: string; score: number }[], scores: Record<string, number>, message: string) {
  t.same(actual.map((p) => p.label).sort(), LABELS, `${message}: every label`);
  t.ok(sortedDescending(actual), `${message}: highest first`);
  t.ok(actual.every((p) => Math.abs(p.score - scores[p.label]!) <= SCORE_TOLERANCE), `${message}: the same probabilities as /api/predict`);
}

t.test('POST /predict and POST / with a string: every label with its probability, highest first, as /api/predict', async (t) => {
  for (const text of TEXTS) {
    const reference = await postJson(`${url}/api/predict`, { text });
    t.same(tei.request('POST', '/predict', { inputs: text }), [], 'the request is a TEI PredictRequest');
    for (const path of ['/predict', '/']) {
      const res = await predict(t, { inputs: text }, path);
      t.equal(res.status, 200);
      sameScores(t, res.body, reference.body.scores, `${path} ${text}`);
      t.equal(res.body[0].label, reference.body.label, 'the same top label');
      t.equal(res.headers.get('x-model-version'), reference.headers.get('x-model-version'), 'x-model-version');
      for (const header of ['x-queue-time', 'x-inference-time', 'x-total-time']) t.match(res.headers.get(header), /^\d+\.\d{3}$/, header);
    }
  }
});

t.test('a batch [[text], ...] answers one list per text, in order, as /api/predict/batch', async (t) => {
  const reference = await postJson(`${url}/api/predict/batch`, { texts: TEXTS });
  const body = { inputs: TEXTS.map((text) => [text]) };
  t.same(tei.request('POST', '/predict', body), []);
  const res = await predict(t, body);
  t.equal(res.status, 200);
  t.equal(res.body.length, TEXTS.length);
  res.body.forEach((list: { label: string; score: number }[], i: number) => sameScores(t, list, reference.body.predictions[i].scores, `inputs[${i}]`));
});

t.test('raw_scores: the logits, highest first, whose softmax is the probabilities', async (t) => {
  const [probabilities, raw] = await Promise.all([predict(t, { inputs: TEXTS[0] }), predict(t, { inputs: TEXTS[0], raw_scores: true })]);
  t.ok(sortedDescending(raw.body), 'highest first');
  t.notSame(raw.body, probabilities.body, 'not the probabilities');
  const logits = LABELS.map((label) => raw.body.find((p: { label: string }) => p.label === label).score);
  const expected = Object.fromEntries(LABELS.map((label, k) => [label, softmax(logits)[k]!]));
  sameScores(t, probabilities.body, expected, 'softmax(raw scores)');
});

t.test('a pair of texts, or a list that is neither a pair nor a batch, is refused: 422 Validation', async (t) => {
  for (const inputs of [['first text', 'second text'], [['a text'], ['first', 'second']], ['only one'], ['a', 'b', 'c'], [['a', 'b', 'c']]]) {
    const res = await predict(t, { inputs });
    t.equal(res.status, 422, JSON.stringify(inputs));
    t.equal(res.body.error_type, 'Validation');
    t.match(res.body.error, /pair|one-text|single/);
  }
});

t.test('truncation as TEI documents it: refused by default (413), cut at the asked end with truncate: true', async (t) => {
  // More tokens than the model's 512, fewer characters than MAX_TEXT_CHARS; different sentiment at each end.
  const long = `${'wonderful happy '.repeat(160)}${'terrible awful '.repeat(160)}`;
  for (const options of [{}, { truncate: false }, { truncate: null }, { truncate: false, truncation_direction: 'Left' }]) {
    const res = await predict(t, { inputs: long, ...options });
    t.equal(res.status, 413, `${JSON.stringify(options)}: refused`);
    t.equal(res.body.error_type, 'Validation');
  }
  const right = await predict(t, { inputs: long, truncate: true });
  t.equal(right.status, 200, 'truncate: true cuts the end (Right, the default)');
  const reference = await postJson(`${url}/api/predict`, { text: long });
  t.equal(reference.body.truncated, true);
  sameScores(t, right.body, reference.body.scores, 'Right = what /api/predict does');
  const left = await predict(t, { inputs: long, truncate: true, truncation_direction: 'Left' });
  t.equal(left.status, 200);
  t.notSame(left.body, right.body, 'Left keeps the other end of the text');
  t.same((await predict(t, { inputs: long, truncate: true, truncation_direction: 'left' })).body, left.body, 'lowercase left = Left');
  t.same((await predict(t, { inputs: long, truncate: true, truncation_direction: 'right' })).body, right.body, 'lowercase right = Right');
});

t.test('bad inputs get a 4xx TEI ErrorResponse, never a 5xx', async (t) => {
  const cases: [unknown, number][] = [
    [{}, 400], [{ inputs: [] }, 400], [{ inputs: '' }, 400], [{ inputs: '   ' }, 400], [{ inputs: 'a\u0000b' }, 400],
    [{ inputs: 5 }, 400], [{ inputs: null }, 400], [{ inputs: [[]] }, 400], [{ inputs: [[1]] }, 400], [{ inputs: 'x', extra: 1 }, 400],
    [{ inputs: 'x', raw_scores: 'yes' }, 400], [{ inputs: 'x', truncation_direction: 'up' }, 400], ['{"inputs": "unterminated', 400],
    [{ inputs: 'x'.repeat(5001) }, 413], [{ inputs: Array.from({ length: 9 }, () => ['x']) }, 413], [{ inputs: [['ok'], ['\ud800']] }, 400],
  ];
  for (const [body, status] of cases) {
    const res = await predict(t, body);
    t.equal(res.status, status, JSON.stringify(body).slice(0, 80));
    t.same(Object.keys(res.body).sort(), ['error', 'error_type'], 'TEI error shape');
    t.notMatch(res.body.error, /\/work\/|node_modules|\n\s+at /, 'no internal detail');
  }
  const plain = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
  t.equal(plain.status, 415);
  t.same(Object.keys(await plain.json() as object).sort(), ['error', 'error_type']);
});

t.test('GET /health: 200 with an empty body while the model serves', async (t) => {
  const res = await callChecked(t, `${url}/health`, 'GET', route('/health'));
  t.equal(res.status, 200);
  t.equal(res.body, undefined, 'empty body');
});

t.test('GET /info: TEI\'s Info object with the service\'s true values', async (t) => {
  const model = (await getJson(`${url}/api/model`)).body;
  const res = await callChecked(t, `${url}/info`, 'GET', route('/info'));
  t.equal(res.status, 200);
  t.same(tei.component('Info', res.body), []);
  t.match(res.body, {
    model_id: model.name, served_model_name: model.name, model_sha: model.sha256, model_dtype: 'float32',
    model_type: { classifier: { id2label: { 0: 'negative', 1: 'neutral', 2: 'positive' }, label2id: { negative: 0, neutral: 1, positive: 2 } } },
    max_input_length: model.maxTokens, max_client_batch_size: 8, max_concurrent_requests: 2048, max_batch_tokens: 16384,
    max_batch_requests: 128, auto_truncate: false, version: '1.0.0',
  });
  t.ok(res.body.tokenization_workers >= 1);
});

t.test('POST /tokenize and /decode: the model\'s tokens, and back', async (t) => {
  const one = await callChecked(t, `${url}/tokenize`, 'POST', route('/tokenize'), { inputs: 'I love this phone' });
  t.equal(one.status, 200);
  t.equal(one.body.length, 1, 'a list of token lists, even for one text');
  const tokens = one.body[0] as { id: number; text: string; special: boolean; start: number | null; stop: number | null }[];
  t.ok(tokens[0]!.special && tokens.at(-1)!.special, 'special tokens added by default');
  t.same(tokens.filter((token) => !token.special).map((token) => token.text), ['i', 'love', 'this', 'phone']);
  const plain = await callChecked(t, `${url}/tokenize`, 'POST', route('/tokenize'), { inputs: ['I love this phone', 'so bad'], add_special_tokens: false });
  t.equal(plain.body.length, 2);
  t.ok(plain.body[0].every((token: { special: boolean }) => !token.special), 'add_special_tokens: false');
  const ids = tokens.map((token) => token.id);
  const decoded = await callChecked(t, `${url}/decode`, 'POST', route('/decode'), { ids });
  t.same(decoded.body, ['i love this phone'], 'decoding skips special tokens by default');
  const withSpecial = await callChecked(t, `${url}/decode`, 'POST', route('/decode'), { ids: [ids, plain.body[1].map((token: { id: number }) => token.id)], skip_special_tokens: false });
  t.equal(withSpecial.body.length, 2);
  t.match(withSpecial.body[0], /^\[CLS\] i love this phone \[SEP\]$/);
  t.equal(withSpecial.body[1], 'so bad');
  for (const [path, body] of [['/tokenize', { inputs: '' }], ['/tokenize', { inputs: 3 }], ['/tokenize', { inputs: 'x', prompt_name: 'query' }], ['/decode', { ids: [-1] }], ['/decode', { ids: 'x' }], ['/decode', { ids: Array.from({ length: 9 }, () => [1]) }]] as const) {
    const res = await callChecked(t, `${url}${path}`, 'POST', route(path), body);
    t.ok(res.status >= 400 && res.status < 500, `${path} ${JSON.stringify(body)} → ${res.status}`);
  }
});

t.test('API keys and the rate limit apply to the TEI routes as to /api/predict; /health stays open', async (t) => {
  const guarded = await startTestService({ API_KEYS: 'tei-key', RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW: '60000' });
  t.teardown(() => guarded.close());
  for (const [method, path, body] of [['POST', '/predict', { inputs: 'hi' }], ['POST', '/', { inputs: 'hi' }], ['GET', '/info', undefined], ['POST', '/tokenize', { inputs: 'hi' }], ['POST', '/decode', { ids: [1] }]] as const) {
    const res = await callChecked(t, `${guarded.url}${path}`, method, route(path === '/' ? '/predict' : path), body);
    t.equal(res.status, 401, `${method} ${path} without a key`);
    t.equal(res.body.error_type, 'Validation');
  }
  t.equal((await callChecked(t, `${guarded.url}/health`, 'GET', route('/health'))).status, 200, '/health without a key');
  const key = { authorization: 'Bearer tei-key' };
  const statuses: number[] = [];
  let last: CheckedResponse | undefined;
  for (let i = 0; i < 4; i++) {
    last = await callChecked(t, `${guarded.url}/predict`, 'POST', route('/predict'), { inputs: 'hi' }, key);
    statuses.push(last.status);
  }
  t.same(statuses, [200, 200, 200, 429], 'RATE_LIMIT_MAX=3 per window');
  t.equal(last!.body.error_type, 'Overloaded');
  t.ok(Number(last!.headers.get('retry-after')) > 0, 'Retry-After');
  const doc = (await getJson(`${guarded.url}/docs/json`)).body;
  for (const [path, method] of [['/predict', 'post'], ['/info', 'get'], ['/hf/text-classification', 'post'], ['/v2/models/{name}/infer', 'post']] as const) {
    const operation = doc.paths[path][method];
    t.same(operation.security, [{ bearer: [] }, { apiKey: [] }], `OpenAPI: ${path} needs a key`);
    t.ok(operation.responses['401'] && operation.responses['429'], `OpenAPI: ${path} documents 401 and 429`);
  }
  t.notOk(doc.paths['/health'].get.security, 'OpenAPI: /health is open');
});

t.test('the HTTP metrics are labelled by TEI route', async (t) => {
  const metrics = await (await fetch(`${url}/metrics`)).text();
  for (const routeLabel of ['/predict', '/', '/info', '/tokenize', '/decode', '/health']) {
    t.match(metrics, new RegExp(`http_request_duration_seconds_count\\{[^}]*route="${routeLabel.replace(/\//g, '\\/')}"`), `route="${routeLabel}"`);
  }
});

t.test('the OpenAPI document at /docs lists the protocol routes under their tags', async (t) => {
  const doc = (await getJson(`${url}/docs/json`)).body as { paths: Record<string, Record<string, { tags?: string[] }>> };
  const expected: [string, string, string][] = [
    ['/predict', 'post', 'tei'], ['/', 'post', 'tei'], ['/health', 'get', 'tei'], ['/info', 'get', 'tei'], ['/tokenize', 'post', 'tei'], ['/decode', 'post', 'tei'],
    ['/hf/text-classification', 'post', 'hf'],
    ['/v2/health/live', 'get', 'v2'], ['/v2/health/ready', 'get', 'v2'], ['/v2', 'get', 'v2'], ['/v2/models/{name}', 'get', 'v2'],
    ['/v2/models/{name}/versions/{version}/infer', 'post', 'v2'], ['/v2/models/{name}/infer', 'post', 'v2'], ['/v2/models/{name}/ready', 'get', 'v2'],
  ];
  for (const [path, method, tag] of expected) t.same(doc.paths[path]?.[method]?.tags, [tag], `${method.toUpperCase()} ${path} tagged ${tag}`);
});
