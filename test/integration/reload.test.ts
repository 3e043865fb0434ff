// Model update without downtime: POST /api/admin/reload and SIGHUP load the model now at MODEL_PATH beside
// the serving one, check it, swap it in between batches; a broken model is refused and the old one serves on.
// Swaps under 500 connections: test/load/reload-under-load.test.ts.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startServerProcess } from '../helpers/process.js';
import { FIXTURES, getJson, postJson, startTestService } from '../helpers/service.js';

const ADMIN = { 'x-api-key': 'admin-secret' };

function modelDir(from = 'bert-tiny'): string {
  const dir = mkdtempSync(join(tmpdir(), 'served-model-'));
  cpSync(`${FIXTURES}${from}`, dir, { recursive: true });
  return dir;
}

t.test('reload: unchanged, swapped, refused when broken or with other labels, one at a time', async (t) => {
  const dir = modelDir();
  const server = await startTestService({ MODEL_PATH: dir, ADMIN_API_KEYS: 'admin-secret' });
  t.teardown(() => server.close());
  const { url } = server;
  const v1 = (await getJson(`${url}/api/model`)).body.version;

  const unchanged = await postJson(`${url}/api/admin/reload`, {}, ADMIN);
  t.equal(unchanged.status, 200);
  t.equal(unchanged.body.status, 'unchanged');

  cpSync(`${FIXTURES}bert-tiny-v2/model.onnx`, join(dir, 'model.onnx'));
  const swapped = await postJson(`${url}/api/admin/reload`, {}, ADMIN);
  t.equal(swapped.status, 200);
  t.equal(swapped.body.status, 'swapped');
  t.equal(swapped.body.previous.version, v1);
  const v2 = swapped.body.current.version;
  t.not(v2, v1);
  t.equal((await getJson(`${url}/api/model`)).body.version, v2, '/api/model shows the new version');
  const answered = await postJson(`${url}/api/predict`, { text: 'served by the new model' });
  t.equal(answered.headers.get('x-model-version'), v2);

  writeFileSync(join(dir, 'model.onnx'), 'this is not an ONNX file');
  const broken = await postJson(`${url}/api/admin/reload`, {}, ADMIN);
  t.equal(broken.status, 422);
  t.equal(broken.body.code, 'MODEL_REJECTED');
  t.match(broken.body.message, /^the new model was refused and the old one keeps serving: it does not load: /);
  const still = await postJson(`${url}/api/predict`, { text: 'still answered' });
  t.equal(still.status, 200);
  t.equal(still.headers.get('x-model-version'), v2, 'the old model keeps serving');
  t.equal((await getJson(`${url}/api/ready`)).status, 200, 'and the service stays ready');

  cpSync(`${FIXTURES}roberta-tiny`, dir, { recursive: true });
  const otherLabels = await postJson(`${url}/api/admin/reload`, {}, ADMIN);
  t.equal(otherLabels.status, 422);
  t.match(otherLabels.body.message, /its labels \(LABEL_0, LABEL_1, LABEL_2\) differ from the served model's \(negative, neutral, positive\)/);

  cpSync(`${FIXTURES}bert-tiny`, dir, { recursive: true });
  const [first, second] = await Promise.all([
    postJson(`${url}/api/admin/reload`, {}, ADMIN),
    postJson(`${url}/api/admin/reload`, {}, ADMIN),
  ]);
  t.same([first.status, second.status].sort(), [200, 409], 'a second reload while one runs gets 409');
  t.equal([first, second].find((r) => r.status === 409)!.body.code, 'RELOAD_IN_PROGRESS');
  const metrics = await (await fetch(`${url}/metrics`)).text();
  t.match(metrics, /^sentiment_model_reloads_total\{result="swapped"\} 2$/m);
  t.match(metrics, /^sentiment_model_reloads_total\{result="rejected"\} 2$/m);
  t.match(metrics, new RegExp(`^sentiment_model_info\\{name="bert-tiny-fixture",sha256="${v1}[0-9a-f]{52}"`, 'm'));
});

t.test('SIGHUP reloads the model of a running server', async (t) => {
  const dir = modelDir();
  const server = await startServerProcess({ MODEL_PATH: dir });
  t.teardown(() => { server.child.kill('SIGKILL'); });
  const before = (await getJson(`${server.url}/api/model`)).body.version;
  cpSync(`${FIXTURES}bert-tiny-v2/model.onnx`, join(dir, 'model.onnx'));
  server.child.kill('SIGHUP');
  let after = before;
  for (let i = 0; i < 200 && after === before; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    after = (await getJson(`${server.url}/api/model`)).body.version;
  }
  t.not(after, before, 'the new version serves');
  t.equal((await postJson(`${server.url}/api/predict`, { text: 'after SIGHUP' })).headers.get('x-model-version'), after);
});
