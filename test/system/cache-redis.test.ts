// The prediction cache shared between replicas through a real Redis (CACHE_REDIS=1): what one replica stored
// the other answers from, and while Redis is down a lookup that would have hit only costs a miss.
import { Redis } from 'ioredis';
import t from 'tap';
import { waitUntil } from '../../deploy/local-stack.js';
import { metricSum } from '../helpers/deploy-checks.js';
import { assertSamePrediction } from '../helpers/predictions.js';
import { startRedis } from '../helpers/redis.js';
import { postJson, startTestService } from '../helpers/service.js';

t.test('CACHE_REDIS=1 shares answers between replicas, and a Redis outage only costs misses', async (t) => {
  const redis = await startRedis();
  const env = { CACHE_SIZE: '100', CACHE_REDIS: '1', REDIS_URL: redis.url };
  const [a, b] = await Promise.all([startTestService(env), startTestService(env)]);
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  t.teardown(() => client.disconnect());
  // The store to Redis is not awaited by the request: wait until Redis holds what A stored.
  const stored = async (count: number) => waitUntil(async () => (await client.dbsize()) >= count, { timeoutMs: 10_000, what: `${count} entries in Redis` });

  const fromA = await postJson(`${a.url}/api/predict`, { text: 'shared between replicas' });
  t.equal(fromA.headers.get('x-cache'), 'miss');
  await stored(1);
  const fromB = await postJson(`${b.url}/api/predict`, { text: 'shared between replicas' });
  t.equal(fromB.headers.get('x-cache'), 'hit', 'replica B answers from what replica A stored');
  assertSamePrediction(t, fromB.body, fromA.body, 'same answer');
  const metrics = await (await fetch(`${b.url}/metrics`)).text();
  t.equal(metricSum(metrics, 'sentiment_cache_lookups_total', { result: 'hit', source: 'redis' }), 1);
  t.equal(metricSum(metrics, 'sentiment_redis_failures_total', { use: 'cache' }), 0, 'no failed Redis command while it was up');

  // A text that only Redis holds (A stored it; B never saw it): with Redis down, B misses and still answers.
  await postJson(`${a.url}/api/predict`, { text: 'stored by A alone' });
  await stored(2);
  client.disconnect();
  await redis.stop();
  const during = await postJson(`${b.url}/api/predict`, { text: 'stored by A alone' });
  t.equal(during.status, 200);
  t.equal(during.headers.get('x-cache'), 'miss', 'what would have been a Redis hit is a miss, not an error');
  const after = await (await fetch(`${b.url}/metrics`)).text();
  t.ok(metricSum(after, 'sentiment_redis_failures_total', { use: 'cache' }) >= 1, 'the failed lookup is counted');
});
