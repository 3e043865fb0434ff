// WORKERS × INTRA_OP_THREADS chosen from the model when neither is set on a CPU (core/worker-sizing.ts): a
// probe worker with every core's thread measures the model; a heavy one keeps it, a light one gets one
// single-threaded worker per core. Set values always win.
import t from 'tap';
import { sizedPool } from '../../core/model.js';
import { HEAVY_TWEET_MS, chooseSizing, configuredSizing } from '../../core/worker-sizing.js';
import { TWEET_LENGTH } from '../../inference/warmup.js';
import { getJson, startTestService } from '../helpers/service.js';

/** A pool that runs nothing: its sizing, a cost per token, and whether it was closed. */
function fakePools(msPerToken: number) {
  const started: { workers: number; intraOpThreads: number; closed: boolean }[] = [];
  const start = async (sizing: { workers: number; intraOpThreads: number }) => {
    const pool = { ...sizing, closed: false, description: { providers: [], warmupMs: 0, msPerToken, warmupShapes: 1, runRows: 8, runOverheadTokens: 0, specialTokens: 2 }, close: async () => { pool.closed = true; } };
    started.push(pool);
    return pool;
  };
  return { started, start };
}

t.test('the choice: a tweet costing HEAVY_TWEET_MS or more with every thread is heavy', async (t) => {
  const heavy = chooseSizing(4, HEAVY_TWEET_MS / TWEET_LENGTH);
  t.same([heavy.workers, heavy.intraOpThreads], [1, 4]);
  t.match(heavy.reason, /heavy model/);
  const light = chooseSizing(4, 0.9 * HEAVY_TWEET_MS / TWEET_LENGTH);
  t.same([light.workers, light.intraOpThreads], [4, 1]);
  t.match(light.reason, /light model/);
  t.same(configuredSizing(undefined, undefined, 1), { workers: 1, intraOpThreads: 1, reason: 'one CPU' }, 'one CPU: nothing to choose');
  t.equal(configuredSizing(undefined, undefined, 8), undefined, 'neither set: measure');
  t.same(configuredSizing(3, 2, 8), { workers: 3, intraOpThreads: 2, reason: 'set by WORKERS and INTRA_OP_THREADS (or their defaults)' });
});

t.test('a heavy model keeps the probe pool; a light one starts a pool of one-thread workers and closes the probe', async (t) => {
  const heavy = fakePools(1);
  const kept = await sizedPool({ workers: undefined, intraOpThreads: undefined }, heavy.start, 4);
  t.equal(heavy.started.length, 1, 'one pool started');
  t.same([kept.pool.workers, kept.pool.intraOpThreads, kept.pool.closed], [1, 4, false]);
  const light = fakePools(0.001);
  const swapped = await sizedPool({ workers: undefined, intraOpThreads: undefined }, light.start, 4);
  t.same(light.started.map((p) => [p.workers, p.intraOpThreads, p.closed]), [[1, 4, true], [4, 1, false]]);
  t.equal(swapped.pool, light.started[1]);
  const set = fakePools(1);
  await sizedPool({ workers: 2, intraOpThreads: 1 }, set.start, 4);
  t.same(set.started.map((p) => [p.workers, p.intraOpThreads]), [[2, 1]], 'set values: no probe');
});

t.test('the running service with neither set: the tiny fixture is light, and /api/model says why', async (t) => {
  const server = await startTestService({ WORKERS: '', INTRA_OP_THREADS: '' });
  t.teardown(() => server.close());
  const model = (await getJson(`${server.url}/api/model`)).body;
  t.equal(model.intraOpThreads, 1);
  t.ok(model.workers >= 1);
  t.match(model.sizing, /^chosen: a tweet's 64 padded tokens cost .* light model/);
  const set = await startTestService({ WORKERS: '1', INTRA_OP_THREADS: '1' });
  t.teardown(() => set.close());
  t.match((await getJson(`${set.url}/api/model`)).body.sizing, /^set by WORKERS/);
});
