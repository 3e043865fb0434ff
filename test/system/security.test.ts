// API keys, rate limits (in process and shared through a real Redis), the metrics port and load shedding
// under pressure, over real HTTP.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { getJson, postJson, startTestService } from '../helpers/service.js';
import { startRedis } from '../helpers/redis.js';
import { freePort } from '../helpers/process.js';
import { metricSum } from '../helpers/deploy-checks.js';

const CLIENT_KEY = 'client-key-5f2b9c0e1d';
const SECOND_KEY = 'second-key-77aa31bb';
const ADMIN_KEY = 'admin-key-0c9d8e7f6a';

/** sentiment_redis_failures_total{use} as the replica at `url` reports it. */
async function redisFailures(t: Test, url: string, use: 'rate_limit' | 'cache'): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { 'x-api-key': CLIENT_KEY } })).text();
  t.match(text, /sentiment_redis_failures_total\{use="rate_limit"\}/, 'the failure counter is exported');
  return metricSum(text, 'sentiment_redis_failures_total', { use });
}

t.test('API keys guard prediction and model routes; health and readiness stay open', async (t) => {
  let logged = '';
  const logger = pino({ level: 'debug' }, new Writable({ write(chunk, _encoding, done) { logged += chunk; done(); } }));
  const dir = mkdtempSync(join(tmpdir(), 'keys-'));
  writeFileSync(join(dir, 'keys.txt'), `# team keys\n${SECOND_KEY}\n\n`);
  const server = await startTestService({ API_KEYS: CLIENT_KEY, API_KEYS_FILE: join(dir, 'keys.txt'), ADMIN_API_KEYS: ADMIN_KEY, LOG_LEVEL: 'debug' }, logger);
  t.teardown(() => server.close());
  const { url } = server;

  const missing = await postJson(`${url}/api/predict`, { text: 'hello' });
  t.equal(missing.status, 401);
  t.equal(missing.body.code, 'UNAUTHORIZED');
  t.equal(missing.headers.get('www-authenticate'), 'Bearer realm="tweet-sentiment"');

  const wrong = await postJson(`${url}/api/predict`, { text: 'hello' }, { authorization: 'Bearer not-a-key' });
  t.equal(wrong.status, 401);
  t.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="tweet-sentiment", error="invalid_token"');
  const almost = await postJson(`${url}/api/predict`, { text: 'hello' }, { 'x-api-key': CLIENT_KEY.slice(0, -1) });
  t.equal(almost.status, 401, 'a prefix of a key is not the key');

  t.equal((await postJson(`${url}/api/predict`, { text: 'hello' }, { authorization: `Bearer ${CLIENT_KEY}` })).status, 200, 'Bearer');
  t.equal((await postJson(`${url}/api/predict`, { text: 'hello' }, { authorization: `bearer ${CLIENT_KEY}` })).status, 200, 'scheme is case-insensitive');
  t.equal((await postJson(`${url}/api/predict/batch`, { texts: ['a'] }, { 'x-api-key': CLIENT_KEY })).status, 200, 'X-API-Key');
  t.equal((await postJson(`${url}/api/predict`, { text: 'hello' }, { 'x-api-key': SECOND_KEY })).status, 200, 'a key from API_KEYS_FILE');
  t.equal((await postJson(`${url}/api/predict`, { text: 'hello' }, { 'x-api-key': ADMIN_KEY })).status, 200, 'admin keys may predict');

  t.equal((await getJson(`${url}/api/model`)).status, 401, '/api/model needs a key');
  t.equal((await getJson(`${url}/api/model`, { 'x-api-key': CLIENT_KEY })).status, 200);
  t.equal((await getJson(`${url}/api/health`)).status, 200, 'health is open');
  t.equal((await getJson(`${url}/api/ready`)).status, 200, 'readiness is open');

  const adminWithClientKey = await postJson(`${url}/api/admin/reload`, {}, { 'x-api-key': CLIENT_KEY });
  t.equal(adminWithClientKey.status, 403, 'a client key may not use the admin API');
  t.equal(adminWithClientKey.body.code, 'FORBIDDEN');
  t.equal((await postJson(`${url}/api/admin/reload`, {}, {})).status, 401);
  const admin = await postJson(`${url}/api/admin/reload`, {}, { authorization: `Bearer ${ADMIN_KEY}` });
  t.equal(admin.status, 200);
  t.equal(admin.body.status, 'unchanged');

  for (const key of [CLIENT_KEY, SECOND_KEY, ADMIN_KEY]) t.notOk(logged.includes(key), 'keys are never logged');
  t.ok(logged.includes('"url":"/api/predict"'), 'while requests are logged at debug level');
});

t.test('ADMIN_API_KEYS alone leaves the prediction API open', async (t) => {
  const server = await startTestService({ ADMIN_API_KEYS: ADMIN_KEY });
  t.teardown(() => server.close());
  t.equal((await postJson(`${server.url}/api/predict`, { text: 'open' })).status, 200);
  t.equal((await postJson(`${server.url}/api/admin/reload`, {})).status, 401);
});

t.test('without ADMIN_API_KEYS the admin API is off', async (t) => {
  const server = await startTestService({});
  t.teardown(() => server.close());
  const res = await postJson(`${server.url}/api/admin/reload`, {});
  t.equal(res.status, 403);
  t.match(res.body.message, /set ADMIN_API_KEYS/);
});

t.test('rate limit per API key: 429 JSON with Retry-After and x-ratelimit-* headers', async (t) => {
  const server = await startTestService({ API_KEYS: `${CLIENT_KEY},${SECOND_KEY}`, RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW: '60000' });
  t.teardown(() => server.close());
  const call = (key: string) => postJson(`${server.url}/api/predict`, { text: 'limit me' }, { 'x-api-key': key });
  for (let i = 0; i < 3; i++) {
    const ok = await call(CLIENT_KEY);
    t.equal(ok.status, 200);
    t.equal(ok.headers.get('x-ratelimit-limit'), '3');
    t.equal(ok.headers.get('x-ratelimit-remaining'), String(2 - i));
  }
  const limited = await call(CLIENT_KEY);
  t.equal(limited.status, 429);
  t.same(Object.keys(limited.body).sort(), ['code', 'error', 'message', 'requestId', 'statusCode']);
  t.equal(limited.body.code, 'RATE_LIMITED');
  t.equal(limited.body.error, 'Too Many Requests');
  t.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After');
  t.equal(limited.headers.get('x-ratelimit-remaining'), '0');
  t.ok(Number(limited.headers.get('x-ratelimit-reset')) > 0);
  t.equal((await call(SECOND_KEY)).status, 200, 'another key has its own budget');
  t.equal((await getJson(`${server.url}/api/health`)).status, 200, 'health is never limited');
});

t.test('rate limit per IP without keys', async (t) => {
  const server = await startTestService({ RATE_LIMIT_MAX: '2' });
  t.teardown(() => server.close());
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await postJson(`${server.url}/api/predict`, { text: 'x' })).status);
  t.same(statuses, [200, 200, 429]);
});

t.test('one budget per client across every limited route, not one per route', async (t) => {
  const server = await startTestService({ API_KEYS: `${CLIENT_KEY},${SECOND_KEY}`, RATE_LIMIT_MAX: '4', RATE_LIMIT_WINDOW: '60000' });
  t.teardown(() => server.close());
  const auth = (key: string) => ({ 'x-api-key': key });
  const spent = [
    await getJson(`${server.url}/api/model`, auth(CLIENT_KEY)),
    await postJson(`${server.url}/api/predict`, { text: 'one' }, auth(CLIENT_KEY)),
    await postJson(`${server.url}/api/predict/batch`, { texts: ['two', 'three'] }, auth(CLIENT_KEY)),
    await postJson(`${server.url}/api/predict`, { text: 'four' }, auth(CLIENT_KEY)),
  ];
  t.same(spent.map((r) => r.status), [200, 200, 200, 200]);
  t.same(spent.map((r) => r.headers.get('x-ratelimit-remaining')), ['3', '2', '1', '0'], 'each call, whatever its route, spends from the same budget');
  for (const over of [
    await getJson(`${server.url}/api/model`, auth(CLIENT_KEY)),
    await postJson(`${server.url}/api/predict/batch`, { texts: ['five'] }, auth(CLIENT_KEY)),
    await postJson(`${server.url}/api/predict`, { text: 'six' }, auth(CLIENT_KEY)),
  ]) {
    t.equal(over.status, 429, 'the budget is spent on every limited route');
    t.equal(over.body.code, 'RATE_LIMITED');
    t.equal(over.headers.get('x-ratelimit-remaining'), '0');
  }
  const other = await getJson(`${server.url}/api/model`, auth(SECOND_KEY));
  t.equal(other.status, 200, 'another client keeps its own budget');
  t.equal(other.headers.get('x-ratelimit-remaining'), '3');
});

t.test('with REDIS_URL every replica shares one limit', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const env = { API_KEYS: CLIENT_KEY, RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW: '60000', REDIS_URL: redis.url };
  const [a, b] = await Promise.all([startTestService(env), startTestService(env)]);
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const statuses = [];
  for (let i = 0; i < 6; i++) {
    const replica = i % 2 === 0 ? a : b;
    // Alternating routes too: the budget is one per client across routes and replicas.
    const response = i % 3 === 0
      ? await getJson(`${replica.url}/api/model`, { 'x-api-key': CLIENT_KEY })
      : await postJson(`${replica.url}/api/predict`, { text: 'shared' }, { 'x-api-key': CLIENT_KEY });
    statuses.push(response.status);
  }
  t.same(statuses, [200, 200, 200, 200, 200, 429], 'the sixth request, on either replica and route, is over the shared limit of 5');
  for (const replica of [a, b]) {
    // Each replica waited for its connection before serving, so no request skipped the count.
    t.equal(await redisFailures(t, replica.url, 'rate_limit'), 0, 'no count failed open');
  }
});

t.test('Redis unreachable at start-up: the replica still starts, and its limit fails open and is counted', async (t) => {
  const started = Date.now();
  const server = await startTestService({ RATE_LIMIT_MAX: '1', REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
  t.teardown(() => server.close());
  t.ok(Date.now() - started < 30_000, 'start-up is not held by the missing Redis');
  for (let i = 0; i < 3; i++) t.equal((await postJson(`${server.url}/api/predict`, { text: 'no redis' })).status, 200);
  t.equal(await redisFailures(t, server.url, 'rate_limit'), 3, 'every unchecked request is counted');
});

t.test('Redis down: the limit fails open and predictions go on', async (t) => {
  const redis = await startRedis();
  const server = await startTestService({ RATE_LIMIT_MAX: '100', REDIS_URL: redis.url });
  t.teardown(() => server.close());
  t.equal((await postJson(`${server.url}/api/predict`, { text: 'before' })).status, 200);
  await redis.stop();
  const during = await postJson(`${server.url}/api/predict`, { text: 'during the outage' });
  t.equal(during.status, 200);
  t.equal(await redisFailures(t, server.url, 'rate_limit'), 1, 'the unchecked request is counted');
});

t.test('METRICS_PORT moves /metrics off the public port', async (t) => {
  const metricsPort = await freePort();
  const server = await startTestService({ METRICS_PORT: String(metricsPort) });
  t.teardown(() => server.close());
  t.equal((await fetch(`${server.url}/metrics`)).status, 404, 'not on the public port');
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  t.equal(res.status, 200);
  t.match(await res.text(), /^sentiment_queue_depth /m);
});

t.test('under pressure: 503 OVERLOADED with Retry-After, readiness 503, liveness and metrics still 200', async (t) => {
  // A heap limit of 1 MB is always exceeded: the pressure state is on from the first sample.
  const server = await startTestService({ MAX_HEAP_USED_BYTES: '1000000' });
  t.teardown(() => server.close());
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const predict = await postJson(`${server.url}/api/predict`, { text: 'anyone there?' });
  t.equal(predict.status, 503);
  t.equal(predict.body.code, 'OVERLOADED');
  t.equal(predict.headers.get('retry-after'), '1');
  t.equal((await getJson(`${server.url}/api/health`)).status, 200);
  const ready = await getJson(`${server.url}/api/ready`);
  t.equal(ready.status, 503);
  t.equal(ready.body.reason, 'under pressure');
  // Read to the end: a body left unread holds its connection open, and with it the server's close.
  const metrics = await fetch(`${server.url}/metrics`);
  t.equal(metrics.status, 200);
  t.match(await metrics.text(), /^sentiment_queue_depth /m, 'the metrics themselves');
});
