// A hot reload of a large model must not stall the service that keeps serving meanwhile: the new file is
// read and hashed as a stream on the main thread, and loaded and warmed up in worker threads. Measured the
// way an operator would see it: /api/health polled every 10 ms during the reload of a 300 MiB model.
import { cpSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { paddedOnnx } from '../helpers/padded-onnx.js';
import { FIXTURES, getJson, postJson, startTestService } from '../helpers/service.js';

const MODEL_MIB = 300;
// Reading and hashing 300 MiB on the event loop, as before, stalls it for most of a second on the 2-core
// CI machine; the bound leaves room for the scheduler while the new workers load and warm up on the same two
// cores. Measured on the quiet 2-core VM with the step-by-step warm-up, five runs: longest answer
// 60, 62, 60, 152 and 156 ms, so a 150 ms bound failed two runs in five.
const LONGEST_HEALTH_MS = 250;

t.test(`reloading a ${MODEL_MIB} MiB model keeps every health answer under ${LONGEST_HEALTH_MS} ms`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'large-model-'));
  cpSync(`${FIXTURES}bert-tiny`, dir, { recursive: true });
  // Written before the service starts: the test shares the service's event loop, and writing 300 MiB would
  // stall it for reasons of the test's own.
  const large = join(dir, 'large.onnx.part');
  writeFileSync(large, paddedOnnx(`${FIXTURES}bert-tiny/model.onnx`, MODEL_MIB));
  const server = await startTestService({ MODEL_PATH: dir, ADMIN_API_KEYS: 'admin', WORKERS: '1' });
  t.teardown(() => server.close());
  renameSync(large, join(dir, 'model.onnx'));

  let reloading = true;
  const latencies: number[] = [];
  const statuses = new Set<number>();
  const polling = (async () => {
    while (reloading) {
      const started = performance.now();
      const health = await getJson(`${server.url}/api/health`);
      latencies.push(performance.now() - started);
      statuses.add(health.status);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const reload = await postJson(`${server.url}/api/admin/reload`, {}, { 'x-api-key': 'admin' });
  reloading = false;
  await polling;

  t.same([...statuses], [200], 'every health poll answered 200');
  t.equal(reload.status, 200, JSON.stringify(reload.body));
  t.equal(reload.body.status, 'swapped', 'the large model was loaded and swapped in');
  t.ok(latencies.length >= 10, `polled ${latencies.length} times during the ${Math.round(reload.body.loadMs)} ms reload`);
  const longest = Math.max(...latencies);
  t.ok(longest < LONGEST_HEALTH_MS, `longest health answer ${longest.toFixed(1)} ms (limit ${LONGEST_HEALTH_MS} ms)`);
  const answered = await postJson(`${server.url}/api/predict`, { text: 'served by the large model' });
  t.equal(answered.status, 200);
  t.equal(answered.headers.get('x-model-version'), reload.body.current.version);
});
