// The prediction cache: repeated texts skip tokenizing and the queue; keyed by the model's sha256, so a new
// model never answers from the old one's entries; optionally shared between replicas through Redis.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { metricSum } from './helpers/deploy-checks.js';
import { assertSamePrediction } from './helpers/predictions.js';
import { startRedis } from './helpers/redis.js';
import { FIXTURES, postJson, startTestService } from './helpers/service.js';

function counter(metrics: string, result: string, source: string): number {
  const match = new RegExp(`^sentiment_cache_lookups_total\\{result="${result}",source="${source}"\\} (\\S+)`, 'm').exec(metrics);
  return match ? Number(match[1]) : 0;
}

t.test('a repeated text is answered from the cache, identically, without queueing', async (t) => {
  const server = await startTestService({ CACHE_SIZE: '100' });
  t.teardown(() => server.close());
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
  const server = await startTestService({ CACHE_SIZE: '2' });
  t.teardown(() => server.close());
  for (const text of ['one', 'two', 'three']) await postJson(`${server.url}/api/predict`, { text });
  t.equal((await postJson(`${server.url}/api/predict`, { text: 'three' })).headers.get('x-cache'), 'hit');
  t.equal((await postJson(`${server.url}/api/predict`, { text: 'one' })).headers.get('x-cache'), 'miss', 'evicted');
});

t.test('after a model swap no answer comes from the old model\'s entries', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'model-'));
  cpSync(`${FIXTURES}bert-tiny`, dir, { recursive: true });
  const server = await startTestService({ CACHE_SIZE: '100', MODEL_PATH: dir, ADMIN_API_KEYS: 'admin' });
  t.teardown(() => server.close());
  const before = await postJson(`${server.url}/api/predict`, { text: 'same text, new model' });
  cpSync(`${FIXTURES}bert-tiny-v2/model.onnx`, join(dir, 'model.onnx'));
  const reload = await postJson(`${server.url}/api/admin/reload`, {}, { 'x-api-key': 'admin' });
  t.equal(reload.body.status, 'swapped');
  const after = await postJson(`${server.url}/api/predict`, { text: 'same text, new model' });
  t.equal(after.headers.get('x-cache'), 'miss');
  t.not(after.headers.get('x-model-version'), before.headers.get('x-model-version'));
  t.notSame(after.body.scores, before.body.scores, 'the new model\'s own answer');
});

t.test('CACHE_REDIS=1 shares answers between replicas, and a Redis outage only costs misses', async (t) => {
  const redis = await startRedis();
  const env = { CACHE_SIZE: '100', CACHE_REDIS: '1', REDIS_URL: redis.url };
  const [a, b] = await Promise.all([startTestService(env), startTestService(env)]);
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const fromA = await postJson(`${a.url}/api/predict`, { text: 'shared between replicas' });
  t.equal(fromA.headers.get('x-cache'), 'miss');
  // The store to Redis is not awaited by the request; give it a moment.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const fromB = await postJson(`${b.url}/api/predict`, { text: 'shared between replicas' });
  t.equal(fromB.headers.get('x-cache'), 'hit', 'replica B answers from what replica A stored');
  assertSamePrediction(t, fromB.body, fromA.body, 'same answer');
  const metrics = await (await fetch(`${b.url}/metrics`)).text();
  t.equal(counter(metrics, 'hit', 'redis'), 1);
  t.equal(metricSum(metrics, 'sentiment_redis_failures_total', { use: 'cache' }), 0, 'both replicas were connected before serving');
  await redis.stop();
  const during = await postJson(`${b.url}/api/predict`, { text: 'redis is down now' });
  t.equal(during.status, 200);
  t.equal(during.headers.get('x-cache'), 'miss');
  const after = await (await fetch(`${b.url}/metrics`)).text();
  t.ok(metricSum(after, 'sentiment_redis_failures_total', { use: 'cache' }) >= 1, 'the failed lookup is counted');
});
