// A worker that dies mid-batch: only that batch's requests fail (503, WORKER_CRASHED), everything else is
// answered, the worker is replaced, and the service carries on. Workers die through the fault-injecting
// wrapper test/fixtures/crashing-worker.ts.
import t from 'tap';
import type { InferencePool } from '../../inference/pool.js';
import { CRASH_MARKER } from '../fixtures/crash-marker.js';
import { FIXTURES, postJson, startTestService } from '../helpers/service.js';

t.test('an inference worker that dies mid-batch under load fails only its batch, and the pool recovers', async (t) => {
  const maxBatch = 8;
  let pool: InferencePool | undefined;
  const server = await startTestService(
    { MODEL_PATH: `${FIXTURES}slow-tiny`, MAX_BATCH_SIZE: String(maxBatch), WORKERS: '2' },
    undefined,
    { workerFile: new URL('../fixtures/crashing-worker.ts', import.meta.url).pathname, onPool: (started) => { pool = started; } },
  );
  t.teardown(() => server.close());

  const texts = Array.from({ length: 200 }, (_, i) => `tweet ${i} about ${'things '.repeat(i % 30)}`);
  // In the middle of the load, the text that makes its worker die mid-batch.
  const pending = texts.map((text) => postJson(`${server.url}/api/predict`, { text }));
  const fatal = postJson(`${server.url}/api/predict`, { text: CRASH_MARKER });
  const later = texts.map((text) => postJson(`${server.url}/api/predict`, { text }));
  const responses = [...await Promise.all(pending), ...await Promise.all(later)];
  const fatalResponse = await fatal;

  t.equal(fatalResponse.status, 503, 'the request in the dying worker\'s batch gets 503');
  t.equal(fatalResponse.body.code, 'WORKER_CRASHED');
  t.ok(Number(fatalResponse.headers.get('retry-after')) >= 1, 'with Retry-After');
  const failed = responses.filter((res) => res.status !== 200);
  const codes: Record<string, number> = {};
  for (const res of failed) codes[`${res.status} ${res.body.code}`] = (codes[`${res.status} ${res.body.code}`] ?? 0) + 1;
  t.ok(failed.length + 1 <= maxBatch, `only that batch failed: ${failed.length + 1} requests, at most ${maxBatch} (the others: ${JSON.stringify(codes)})`);
  t.ok(failed.every((res) => res.status === 503 && res.body.code === 'WORKER_CRASHED'));
  t.equal(responses.filter((res) => res.status === 200).length, 2 * texts.length - failed.length, 'every other request answered');

  // The pool is whole again and serves.
  t.equal(pool!.crashes, 1);
  const after = await Promise.all(texts.slice(0, 40).map((text) => postJson(`${server.url}/api/predict`, { text })));
  t.ok(after.every((res) => res.status === 200), 'requests after the crash succeed');
  for (let i = 0; i < 100 && pool!.threads < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(pool!.threads, 2, 'a replacement worker runs');
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  t.match(metrics, /^sentiment_worker_restarts_total 1$/m);
  t.match(metrics, new RegExp(`^sentiment_rejections_total\\{reason="worker_crashed"\\} ${failed.length + 1}$`, 'm'));
});
