// The protocols' health and versions follow the service's own state: a saturated queue turns TEI /health and
// V2 readiness to 503 (and refuses work with 503 + Retry-After in each protocol's shape); a hot model swap
// keeps them ready, and V2 versions follow the swap. Responses validated against the published specs.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { waitUntil } from '../../deploy/local-stack.js';
import { callChecked, type CheckedResponse, type SpecRoute } from '../helpers/protocol-calls.js';
import { FIXTURES, getJson, postJson, startTestService } from '../helpers/service.js';
import { SpecValidator } from '../helpers/spec-validator.js';

const tei = SpecValidator.tei();
const v2 = SpecValidator.v2();
const MODEL = '/v2/models/${MODEL_NAME}/versions/${MODEL_VERSION}';
const TEI_HEALTH: SpecRoute = { validator: tei, specPath: '/health', errorSchema: 'ErrorResponse' };
const TEI_PREDICT: SpecRoute = { validator: tei, specPath: '/predict', errorSchema: 'ErrorResponse' };
const V2_READY: SpecRoute = { validator: v2, specPath: '/v2/health/ready', errorSchema: 'metadata_server_error_response' };
const V2_MODEL_READY: SpecRoute = { validator: v2, specPath: `${MODEL}/ready`, errorSchema: 'metadata_model_error_response' };
const V2_MODEL: SpecRoute = { validator: v2, specPath: MODEL, errorSchema: 'metadata_model_error_response' };
const V2_INFER: SpecRoute = { validator: v2, specPath: `${MODEL}/infer`, errorSchema: 'inference_error_response' };
/** Probes until the answer is a 503 (the queue hovers at its saturation mark as texts finish and others arrive). */
async function until503(probe: () => Promise<CheckedResponse>): Promise<CheckedResponse> {
  for (let i = 0; i < 100; i++) {
    const res = await probe();
    if (res.status === 503) return res;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return probe();
}

const infer = (text: string) => ({ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: [text] }] });

t.test('a saturated queue: /health and V2 readiness say 503, work is refused with 503 + Retry-After in each shape', async (t) => {
  // One worker running one text at a time on the slow fixture, and a short queue. A deadline far off, so that
  // the queue fills to MAX_QUEUE rather than being shed by a busy machine's measured drain rate.
  const server = await startTestService({ MODEL_PATH: `${FIXTURES}slow-tiny`, WORKERS: '1', MAX_BATCH_SIZE: '1', MAX_QUEUE: '8', MAX_CLIENT_BATCH: '8', REQUEST_TIMEOUT_MS: '600000' });
  t.teardown(() => server.close());
  const { url } = server;
  // Fill the queue and keep it topped up while the flood and the probes run: a slot freed by a finished text is
  // taken again at once. (A flood alone can drain as fast as a busy machine's event loop lets it in.)
  let pumping = true;
  const pumped: Promise<number>[] = [];
  const pump = (async () => {
    while (pumping) {
      pumped.push(fetch(`${url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"top up"}' }).then(async (res) => { await res.arrayBuffer(); return res.status; }));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  })();
  t.teardown(async () => { pumping = false; await pump; await Promise.all(pumped); });
  await waitUntil(() => server.service.predictor.saturated, { intervalMs: 2, timeoutMs: 30_000, what: 'the queue saturated' });
  // More texts at once than the full queue takes, half as TEI calls, half as V2 calls.
  const flood = Array.from({ length: 40 }, (_, i) => (i % 2 === 0
    ? callChecked(t, `${url}/predict`, 'POST', TEI_PREDICT, { inputs: `queued ${i}` }).then((res) => ({ kind: 'TEI', ...res }))
    : callChecked(t, `${url}/v2/models/sentiment/infer`, 'POST', V2_INFER, infer(`queued ${i}`)).then((res) => ({ kind: 'V2', ...res }))));

  const health = await until503(() => callChecked(t, `${url}/health`, 'GET', TEI_HEALTH));
  t.equal(health.status, 503, 'TEI /health: 503');
  t.equal(health.body.error_type, 'Unhealthy');
  t.ok(Number(health.headers.get('retry-after')) >= 1, 'with Retry-After');
  const ready = await until503(() => callChecked(t, `${url}/v2/health/ready`, 'GET', V2_READY));
  t.same([ready.status, ready.body], [503, { ready: false, error: 'not ready: queue saturated' }], 'V2 server ready: 503');
  const modelReady = await until503(() => callChecked(t, `${url}/v2/models/sentiment/ready`, 'GET', V2_MODEL_READY));
  t.equal(modelReady.status, 503, 'V2 model ready: 503');
  pumping = false;
  await pump;
  t.ok((await Promise.all(pumped)).every((status) => status === 200 || status === 503), 'the top-up calls got 200s and 503s only');

  const answers = await Promise.all(flood);
  t.ok(answers.every((res) => res.status === 200 || res.status === 503), 'the flood got 200s and 503s only');
  for (const kind of ['TEI', 'V2']) {
    const refused = answers.filter((res) => res.kind === kind && res.status === 503);
    t.ok(refused.length > 0, `${kind}: ${refused.length} calls refused by the full queue with 503`);
    t.ok(refused.every((res) => Number(res.headers.get('retry-after')) >= 1), `${kind}: with Retry-After`);
    if (kind === 'TEI') t.ok(refused.every((res) => res.body.error_type === 'Overloaded'), 'TEI: error_type Overloaded');
  }
  t.equal((await callChecked(t, `${url}/health`, 'GET', TEI_HEALTH)).status, 200, 'healthy again once drained');
  t.equal((await callChecked(t, `${url}/v2/health/ready`, 'GET', V2_READY)).status, 200, 'ready again once drained');
});

t.test('a hot model swap: ready throughout, and V2 versions follow it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'protocol-swap-'));
  cpSync(`${FIXTURES}bert-tiny`, dir, { recursive: true });
  const server = await startTestService({ MODEL_PATH: dir, ADMIN_API_KEYS: 'admin-secret' });
  t.teardown(() => server.close());
  const { url } = server;
  const v1 = (await getJson(`${url}/api/model`)).body.version as string;

  let polling = true;
  const seen: number[] = [];
  const versions = new Set<string>();
  const poll = (async () => {
    while (polling) {
      const [health, ready, answer] = await Promise.all([
        fetch(`${url}/health`), fetch(`${url}/v2/health/ready`), postJson(`${url}/v2/models/sentiment/infer`, infer('during the swap')),
      ]);
      seen.push(health.status, ready.status, answer.status);
      versions.add(answer.body.model_version);
    }
  })();
  cpSync(`${FIXTURES}bert-tiny-v2/model.onnx`, join(dir, 'model.onnx'));
  const swapped = await postJson(`${url}/api/admin/reload`, {}, { 'x-api-key': 'admin-secret' });
  polling = false;
  await poll;
  t.equal(swapped.body.status, 'swapped');
  const v2Version = swapped.body.current.version as string;
  t.ok(seen.length >= 3 && seen.every((status) => status === 200), `${seen.length / 3} rounds of /health, /v2/health/ready and V2 infer during the swap, all 200`);
  t.ok([...versions].every((version) => version === v1 || version === v2Version), 'every answer came from the old or the new model');

  const old = await callChecked(t, `${url}/v2/models/sentiment/versions/${v1}`, 'GET', V2_MODEL);
  t.equal(old.status, 404, 'the replaced version is gone');
  t.match(old.body.error, /unknown version/);
  const current = await callChecked(t, `${url}/v2/models/sentiment/versions/${v2Version}`, 'GET', V2_MODEL);
  t.same([current.status, current.body.versions], [200, [v2Version]], 'the new version is served');
  const pinnedOld = await callChecked(t, `${url}/v2/models/sentiment/versions/${v1}/infer`, 'POST', V2_INFER, infer('hello'));
  t.equal(pinnedOld.status, 404, 'inference pinned to the old version: 404');
  const pinnedNew = await callChecked(t, `${url}/v2/models/sentiment/versions/${v2Version}/infer`, 'POST', V2_INFER, infer('hello'));
  t.same([pinnedNew.status, pinnedNew.body.model_version], [200, v2Version]);
  const info = (await getJson(`${url}/info`)).body;
  t.equal(info.model_sha.slice(0, 12), v2Version, 'TEI /info follows the swap');
});
