// The prediction cache: repeated texts skip tokenizing and the queue; keyed by the model's sha256, so a new
// model never answers from the old one's entries. Shared between replicas through Redis: test/system/cache-redis.test.ts.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { metricSum } from '../helpers/deploy-checks.js';
import { FIXTURES, postJson, startTestService } from '../helpers/service.js';

function counter(metrics: string, result: string, source: string): number {
  return metricSum(metrics, 'sentiment_cache_lookups_total', { result, source });
}

// One service for the tests that can share it: a cache of 100 entries, on a copy of the fixture that the
// last test replaces.
const servedDir = mkdtempSync(join(tmpdir(), 'model-'));
cpSync(`${FIXTURES}bert-tiny`, servedDir, { recursive: true });
const server = await startTestService({ CACHE_SIZE: '100', MODEL_PATH: servedDir, ADMIN_API_KEYS: 'admin' });
t.teardown(() => server.close());

t.test('a repeated text is answered from the cache, identically, without queueing', async (t) => {
  const first = await postJson(`${server.url}/api/predict`, { text: 'cache me if you can' });
  t.equal(first.headers.get('x-cache'), 'miss');
  const second = await postJson(`${server.url}/api/predict`, { text: 'cache me if you can' });
  t.equal(second.headers.get('x-cache'), 'hit');
  t.same(second.body, first.body, 'the very same prediction');
  t.equal(second.headers.get('x-queue-time'), '0.000');
  t.equal(second.headers.get('x-inference-time'), '0.000');
  const other = await postJson(`${server.url}/api/predict`, { text: 'cache me if you can ' });
  t.equal(other.headers.get('x-cache'), 'miss', 'the key is the exact text');
  const batch = await postJson(`${server.url}/api/predict/batch`, { texts: ['cache me if you can', 'a new one'] });
  t.equal(batch.headers.get('x-cache'), 'partial');
  t.same(batch.body.predictions[0], first.body);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  t.equal(counter(metrics, 'hit', 'memory'), 2);
  t.equal(counter(metrics, 'miss', 'memory'), 3);
});

t.test('the cache holds at most CACHE_SIZE entries (least recently used go first)', async (t) => {
  const small = await startTestService({ CACHE_SIZE: '2' });
  t.teardown(() => small.close());
  for (const text of ['one', 'two', 'three']) await postJson(`${small.url}/api/predict`, { text });
  t.equal((await postJson(`${small.url}/api/predict`, { text: 'three' })).headers.get('x-cache'), 'hit');
  t.equal((await postJson(`${small.url}/api/predict`, { text: 'one' })).headers.get('x-cache'), 'miss', 'evicted');
});

t.test('after a model swap no answer comes from the old model\'s entries', async (t) => {
  const before = await postJson(`${server.url}/api/predict`, { text: 'same text, new model' });
  t.equal((await postJson(`${server.url}/api/predict`, { text: 'same text, new model' })).headers.get('x-cache'), 'hit', 'cached under the old model');
  cpSync(`${FIXTURES}bert-tiny-v2/model.onnx`, join(servedDir, 'model.onnx'));
  const reload = await postJson(`${server.url}/api/admin/reload`, {}, { 'x-api-key': 'admin' });
  t.equal(reload.body.status, 'swapped');
  const after = await postJson(`${server.url}/api/predict`, { text: 'same text, new model' });
  t.equal(after.headers.get('x-cache'), 'miss');
  t.not(after.headers.get('x-model-version'), before.headers.get('x-model-version'));
  t.notSame(after.body.scores, before.body.scores, 'the new model\'s own answer');
});
