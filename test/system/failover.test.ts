// A replica killed with SIGKILL under load behind NGINX: NGINX retries the requests it had in flight on the
// other replica (proxy_next_upstream error timeout non_idempotent), so at most 0.1 % of requests fail.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startLocalNginx, startReplica } from '../../deploy/local-stack.js';
import { validationTexts } from '../helpers/data.js';
import { runLoad } from '../helpers/load.js';

const texts = validationTexts();

t.test('SIGKILL of one of two replicas under 200 connections: ≤ 0.1 % failed requests', async (t) => {
  const env = { WORKERS: '1', CACHE_SIZE: '0' };
  const [a, b] = await Promise.all([startReplica({ env }), startReplica({ env })]);
  t.teardown(() => Promise.all([a.stop('SIGKILL'), b.stop('SIGKILL')]));
  const nginx = await startLocalNginx({
    dir: mkdtempSync(join(tmpdir(), 'failover-nginx-')),
    upstreams: [a.address, b.address],
    // One load generator is one client IP: lift nginx.conf's per-client limit for this test only.
    limitReq: { rate: '1000000r/s', burst: 1_000_000 },
  });
  t.teardown(() => nginx.stop());

  let killedAt = 0;
  const killer = setTimeout(() => {
    killedAt = performance.now();
    a.process.child.kill('SIGKILL');
  }, 2000);
  const summary = await runLoad({
    url: nginx.url, connections: 200, durationMs: 6000,
    body: (n) => ({ text: texts[n % texts.length] }),
    keep: (result) => result.status !== 200,
  });
  clearTimeout(killer);
  const failed = summary.errors + summary.results.length;
  const total = summary.sent;
  t.ok(killedAt > 0, 'a replica was killed mid-run');
  t.ok(total > 2000, `${total} requests sent`);
  t.ok(failed / total <= 0.001, `${failed} failed of ${total} (${((failed / total) * 100).toFixed(3)} %; limit 0.1 %): ${JSON.stringify(summary.statusCounts)}`);
  const after = await fetch(`${nginx.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"served by the survivor"}' });
  t.equal(after.status, 200);
});
