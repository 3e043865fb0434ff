// Model swaps under load: POST /api/admin/reload swaps the model six times while 500 connections send real
// tweets; no request fails, and none sent after a swap completed is answered by the model it replaced.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { validationTexts } from '../helpers/data.js';
import { runLoad } from '../helpers/load.js';
import { FIXTURES, getJson, postJson, startTestService } from '../helpers/service.js';

const ADMIN = { 'x-api-key': 'admin-secret' };

t.test('swapping repeatedly under 500 connections: no failed request, and no old answer after a swap', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'served-model-'));
  cpSync(`${FIXTURES}bert-tiny`, dir, { recursive: true });
  const server = await startTestService({ MODEL_PATH: dir, ADMIN_API_KEYS: 'admin-secret', MAX_QUEUE: '4096' });
  t.teardown(() => server.close());
  const versions = new Map<string, string>(); // version → fixture
  versions.set((await getJson(`${server.url}/api/model`)).body.version, 'bert-tiny');
  // Each swap's completion time and the version it installed.
  const swaps: { doneAt: number; version: string }[] = [];
  let loadDone = false;
  const swapping = (async () => {
    for (let i = 0; !loadDone && i < 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      const next = i % 2 === 0 ? 'bert-tiny-v2' : 'bert-tiny';
      cpSync(`${FIXTURES}${next}/model.onnx`, join(dir, 'model.onnx'));
      const reload = await postJson(`${server.url}/api/admin/reload`, {}, ADMIN);
      t.equal(reload.status, 200, `swap ${i + 1}`);
      t.equal(reload.body.status, 'swapped');
      versions.set(reload.body.current.version, next);
      swaps.push({ doneAt: performance.now(), version: reload.body.current.version });
    }
  })();
  const texts = validationTexts();
  const load = runLoad({
    url: server.url, connections: 500, durationMs: 6000,
    body: (n) => ({ text: texts[n % texts.length] }),
  });
  await swapping;
  loadDone = true;
  const summary = await load;
  t.ok(swaps.length >= 3, `${swaps.length} swaps under load`);
  t.equal(summary.errors, 0, 'no transport error');
  t.same(Object.keys(summary.statusCounts), ['200'], `every response 200 (${summary.results.length} requests)`);
  const known = new Set(versions.keys());
  t.ok(summary.results.every((r) => known.has(r.headers['x-model-version'] as string)), 'every answer from one of the two models');
  let stale = 0;
  for (const result of summary.results) {
    // The latest swap completed before this request was sent: it must be answered by that swap's model.
    const latest = swaps.filter((swap) => swap.doneAt < result.sentAt).at(-1);
    if (latest && result.headers['x-model-version'] !== latest.version) stale++;
  }
  t.equal(stale, 0, 'no request sent after a swap completed was answered by the model it replaced');
});
