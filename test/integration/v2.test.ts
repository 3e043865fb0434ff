// The Open Inference Protocol (V2) routes over real HTTP against the real service and a real ONNX model;
// every response (health, metadata, inference, errors) validated against open_inference_rest.yaml.
import t, { type Test } from 'tap';
import { callChecked, type SpecRoute } from '../helpers/protocol-calls.js';
import { SCORE_TOLERANCE } from '../helpers/predictions.js';
import { getJson, postJson, startTestService } from '../helpers/service.js';
import { SpecValidator } from '../helpers/spec-validator.js';

const v2 = SpecValidator.v2();
const MODEL = '/v2/models/${MODEL_NAME}/versions/${MODEL_VERSION}';
const ROUTES = {
  live: { validator: v2, specPath: '/v2/health/live', errorSchema: 'metadata_server_error_response' },
  ready: { validator: v2, specPath: '/v2/health/ready', errorSchema: 'metadata_server_error_response' },
  server: { validator: v2, specPath: '/v2/', errorSchema: 'metadata_server_error_response' },
  model: { validator: v2, specPath: MODEL, errorSchema: 'metadata_model_error_response' },
  modelReady: { validator: v2, specPath: `${MODEL}/ready`, errorSchema: 'metadata_model_error_response' },
  infer: { validator: v2, specPath: `${MODEL}/infer`, errorSchema: 'inference_error_response' },
} satisfies Record<string, SpecRoute>;

const server = await startTestService({ MAX_CLIENT_BATCH: '8', MAX_TEXT_CHARS: '1000' });
t.teardown(() => server.close());
const { url } = server;
const model = (await getJson(`${url}/api/model`)).body as { name: string; version: string; labels: string[]; maxTokens: number; sha256: string };
const TEXTS = ['I love this new phone!', 'worst customer service ever', 'the meeting moved to 3pm'];

function inferBody(texts: string[], extra: Record<string, unknown> = {}) {
  return { inputs: [{ name: 'text', shape: [texts.length], datatype: 'BYTES', data: texts }], ...extra };
}

async function infer(t: Test, body: unknown, path = `/v2/models/${model.name}/infer`, headers: Record<string, string> = {}) {
  t.same(v2.request('POST', ROUTES.infer.specPath, body), [], 'the request is a V2 inference_request');
  return callChecked(t, `${url}${path}`, 'POST', ROUTES.infer, body, headers);
}

t.test('health: live and ready', async (t) => {
  const live = await callChecked(t, `${url}/v2/health/live`, 'GET', ROUTES.live);
  t.same([live.status, live.body], [200, { live: true }]);
  const ready = await callChecked(t, `${url}/v2/health/ready`, 'GET', ROUTES.ready);
  t.same([ready.status, ready.body], [200, { ready: true }]);
});

t.test('server metadata at /v2 and /v2/', async (t) => {
  for (const path of ['/v2', '/v2/']) {
    const res = await callChecked(t, `${url}${path}`, 'GET', ROUTES.server);
    t.equal(res.status, 200);
    t.same(res.body, { name: 'tweet-sentiment-service', version: '1.0.0', extensions: [] });
  }
});

t.test('model metadata and readiness, by name, alias and version; unknown ones are 404 {error}', async (t) => {
  const expected = {
    name: model.name, versions: [model.version], platform: 'onnx_onnxv1',
    inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
    outputs: [{ name: 'label', datatype: 'BYTES', shape: [-1] }, { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }, { name: 'logits', datatype: 'FP32', shape: [-1, 3] }],
    properties: {
      labels: JSON.stringify(model.labels), max_tokens: String(model.maxTokens), sha256: model.sha256, dtype: 'fp32',
      problem_type: 'single_label_classification', text_preprocessing: '[]',
    },
  };
  for (const prefix of [`/v2/models/${model.name}`, '/v2/models/sentiment', `/v2/models/${model.name}/versions/${model.version}`]) {
    const meta = await callChecked(t, `${url}${prefix}`, 'GET', ROUTES.model);
    t.same([meta.status, meta.body], [200, expected], prefix);
    const ready = await callChecked(t, `${url}${prefix}/ready`, 'GET', ROUTES.modelReady);
    t.same([ready.status, ready.body], [200, { name: model.name, ready: true }], `${prefix}/ready`);
  }
  for (const prefix of ['/v2/models/other', `/v2/models/${model.name}/versions/000000000000`, '/v2/models/sentiment/versions/1']) {
    for (const [suffix, routeSpec] of [['', ROUTES.model], ['/ready', ROUTES.modelReady]] as const) {
      const res = await callChecked(t, `${url}${prefix}${suffix}`, 'GET', routeSpec);
      t.equal(res.status, 404, `${prefix}${suffix}`);
      t.same(Object.keys(res.body), ['error']);
    }
  }
});

t.test('inference: label, probabilities and logits as tensors; probabilities equal /api/predict\'s', async (t) => {
  const reference = await postJson(`${url}/api/predict/batch`, { texts: TEXTS });
  const res = await infer(t, inferBody(TEXTS, { id: 'request-42' }));
  t.equal(res.status, 200);
  t.equal(res.body.model_name, model.name);
  t.equal(res.body.model_version, model.version);
  t.equal(res.body.id, 'request-42', 'id echoed');
  t.equal(res.headers.get('x-model-version'), model.version);
  const outputs = Object.fromEntries(res.body.outputs.map((o: { name: string }) => [o.name, o]));
  t.same(res.body.outputs.map((o: { name: string }) => o.name), ['label', 'probabilities', 'logits'], 'all outputs by default');
  t.same([outputs.label.datatype, outputs.label.shape], ['BYTES', [3]]);
  t.same(outputs.label.data, reference.body.predictions.map((p: { label: string }) => p.label));
  for (const name of ['probabilities', 'logits']) t.same([outputs[name].datatype, outputs[name].shape, outputs[name].data.length], ['FP32', [3, 3], 9], name);
  reference.body.predictions.forEach((p: { scores: Record<string, number> }, i: number) => {
    model.labels.forEach((label, k) => {
      t.ok(Math.abs(outputs.probabilities.data[i * 3 + k] - p.scores[label]!) <= SCORE_TOLERANCE, `text ${i} ${label}`);
    });
  });
});

t.test('shape [n, 1] (flat or nested data), the versioned path and the alias give the same answer', async (t) => {
  const flat = await infer(t, inferBody(TEXTS));
  const variants = [
    [{ inputs: [{ name: 'text', shape: [3, 1], datatype: 'BYTES', data: TEXTS }] }, `/v2/models/${model.name}/infer`],
    [{ inputs: [{ name: 'text', shape: [3, 1], datatype: 'BYTES', data: TEXTS.map((text) => [text]) }] }, `/v2/models/${model.name}/versions/${model.version}/infer`],
    [inferBody(TEXTS), '/v2/models/sentiment/infer'],
  ] as const;
  for (const [body, path] of variants) {
    const res = await infer(t, body, path);
    t.equal(res.status, 200, path);
    t.same(res.body.outputs[0].data, flat.body.outputs[0].data, `${path}: same labels`);
    t.ok(res.body.outputs[1].data.every((x: number, i: number) => Math.abs(x - flat.body.outputs[1].data[i]) <= SCORE_TOLERANCE), `${path}: same probabilities`);
  }
});

t.test('outputs selects and orders the tensors; parameters: truncation', async (t) => {
  const res = await infer(t, inferBody(TEXTS, { outputs: [{ name: 'probabilities' }, { name: 'label' }] }));
  t.same(res.body.outputs.map((o: { name: string }) => o.name), ['probabilities', 'label']);
  // 600 tokens (each "!" is one), within MAX_TEXT_CHARS: longer than the model's 512.
  const long = `great game${'!'.repeat(600)}`;
  const refused = await infer(t, inferBody([long], { parameters: { truncation: 'none' } }));
  t.equal(refused.status, 413, 'truncation none: a text longer than the model reads is refused');
  t.match(refused.body.error, /tokens/);
  t.same(Object.keys(refused.body), ['error']);
  const cut = await infer(t, inferBody([long], { parameters: { truncation: 'right', content_type: 'str' } }));
  t.equal(cut.status, 200, 'truncation right (the default); other parameters are ignored');
});

t.test('bad tensors and unknown models: 4xx {error}, never a 5xx', async (t) => {
  const cases: [unknown, number, string?][] = [
    [{ inputs: [{ name: 'text', shape: [1], datatype: 'FP32', data: [1] }] }, 400],
    [{ inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: ['only one'] }] }, 400],
    [{ inputs: [{ name: 'text', shape: [1, 2], datatype: 'BYTES', data: ['a', 'b'] }] }, 400],
    [{ inputs: [{ name: 'text', shape: [1, 1, 1], datatype: 'BYTES', data: ['a'] }] }, 400],
    [{ inputs: [{ name: 'text', shape: [0], datatype: 'BYTES', data: [] }] }, 400],
    [{ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: [[['deep']]] }] }, 400],
    [{ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: [5] }] }, 400],
    [{ inputs: [{ name: 'other', shape: [1], datatype: 'BYTES', data: ['a'] }] }, 400],
    [{ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['a'] }, { name: 'text', shape: [1], datatype: 'BYTES', data: ['b'] }] }, 400],
    [{ inputs: [] }, 400], [{}, 400], [{ inputs: 'text' }, 400],
    [{ inputs: [{ name: 'text', shape: [-1], datatype: 'BYTES', data: ['a'] }] }, 400],
    [{ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['a'] }], unknown: true }, 400],
    [{ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['a'] }], outputs: [{ name: 'embedding' }] }, 400],
    [{ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['a'] }], parameters: { truncation: 'middle' } }, 400],
    [{ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['a'] }], parameters: { nested: { x: 1 } } }, 400],
    [inferBody(['']), 400], [inferBody(['  ']), 400], [inferBody(['a\u0000b']), 400], [inferBody(['\udc00']), 400],
    [inferBody(['x'.repeat(1001)]), 413], [inferBody(Array.from({ length: 9 }, () => 'x')), 413],
    ['{"inputs": [', 400],
  ];
  for (const [body, status] of cases) {
    const res = await callChecked(t, `${url}/v2/models/${model.name}/infer`, 'POST', ROUTES.infer, body);
    t.equal(res.status, status, JSON.stringify(body).slice(0, 100));
    t.same(Object.keys(res.body), ['error'], 'V2 error shape');
  }
  for (const path of ['/v2/models/other/infer', `/v2/models/${model.name}/versions/abc/infer`]) {
    const res = await callChecked(t, `${url}${path}`, 'POST', ROUTES.infer, inferBody(['hello']));
    t.equal(res.status, 404, path);
    t.match(res.body.error, /unknown (model|version)/);
  }
  const unknownPath = await fetch(`${url}/v2/models/${model.name}/explain`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  t.equal(unknownPath.status, 404);
  t.same(Object.keys(await unknownPath.json() as object), ['error'], 'an unknown path under /v2 answers V2\'s error object');
});

t.test('with API keys: health and readiness open, metadata and inference need a key', async (t) => {
  const guarded = await startTestService({ API_KEYS: 'v2-key' });
  t.teardown(() => guarded.close());
  for (const [path, spec] of [['/v2/health/live', ROUTES.live], ['/v2/health/ready', ROUTES.ready], [`/v2/models/${model.name}/ready`, ROUTES.modelReady]] as const) {
    t.equal((await callChecked(t, `${guarded.url}${path}`, 'GET', spec)).status, 200, `${path} open`);
  }
  for (const [path, spec] of [['/v2', ROUTES.server], [`/v2/models/${model.name}`, ROUTES.model]] as const) {
    const res = await callChecked(t, `${guarded.url}${path}`, 'GET', spec);
    t.equal(res.status, 401, `${path} needs a key`);
  }
  const refused = await callChecked(t, `${guarded.url}/v2/models/${model.name}/infer`, 'POST', ROUTES.infer, inferBody(['hi']));
  t.equal(refused.status, 401);
  t.same(Object.keys(refused.body), ['error']);
  const allowed = await callChecked(t, `${guarded.url}/v2/models/${model.name}/infer`, 'POST', ROUTES.infer, inferBody(['hi']), { 'x-api-key': 'v2-key' });
  t.equal(allowed.status, 200);
});

t.test('the HTTP metrics are labelled by V2 route', async (t) => {
  const metrics = await (await fetch(`${url}/metrics`)).text();
  for (const routeLabel of ['/v2/models/:name/infer', '/v2/models/:name/versions/:version/infer', '/v2/health/ready']) {
    t.ok(metrics.includes(`route="${routeLabel}"`), `route="${routeLabel}"`);
  }
});
