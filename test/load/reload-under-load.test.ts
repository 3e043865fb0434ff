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
  // Each swap's request and completion times and the version it installed.
  const swaps: { postedAt: number; doneAt: number; version: string }[] = [];
  let loadDone = false;
  const swapping = (async () => {
    for (let i = 0; !loadDone && i < 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      const next = i % 2 === 0 ? 'bert-tiny-v2' : 'bert-tiny';
      cpSync(`${FIXTURES}${next}/model.onnx`, join(dir, 'model.onnx'));
      const postedAt = performance.now();
      const reload = await postJson(`${server.url}/api/admin/reload`, {}, ADMIN);
      t.equal(reload.status, 200, `swap ${i + 1}`);
      t.equal(reload.body.status, 'swapped');
      versions.set(reload.body.current.version, next);
      swaps.push({ postedAt, doneAt: performance.now(), version: reload.body.current.version });
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
  let checked = 0;
  for (const result of summary.results) {
    // The latest swap completed before this request was sent: it must be answered by that swap's model, or
    // by a later one. The two fixtures alternate, so a later swap's model has the replaced one's version:
    // only a request answered before any later swap was asked for can be told stale.
    const latest = swaps.findLastIndex((swap) => swap.doneAt < result.sentAt);
    if (latest < 0 || swaps.slice(latest + 1).some((swap) => swap.postedAt < result.receivedAt)) continue;
    checked++;
    if (result.headers['x-model-version'] !== swaps[latest]!.version) stale++;
  }
  t.ok(checked > 500, `${checked} answers that only the latest swap's model may give`);
  t.equal(stale, 0, 'no request sent after a swap completed was answered by the model it replaced');
});
