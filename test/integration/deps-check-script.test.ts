// The deps:check script itself (scripts/deps-check.mjs; its decisions are test/unit/deps-check.test.ts's), run
// against a registry that refuses connections: it must fail, say why, and report nothing, rather than pass as if
// every dependency were current. A usage error exits the same way.
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { freePort } from '../../deploy/local-stack.js';

const SCRIPT = new URL('../../scripts/deps-check.mjs', import.meta.url).pathname;

t.test('a registry that cannot be reached fails the check with the reason, and reports nothing', async (t) => {
  const port = await freePort();
  const run = spawnSync(process.execPath, [SCRIPT], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, npm_config_registry: `http://127.0.0.1:${port}/`, npm_config_fetch_retries: '0' },
  });
  t.equal(run.status, 2, run.stderr);
  t.match(run.stderr, /deps:check: could not ask the registry, so nothing was checked: .*ECONNREFUSED/);
  t.equal(run.stdout, '', 'no table, no "all current"');
  const usage = spawnSync(process.execPath, [SCRIPT, '--max-behind', 'one'], { encoding: 'utf8' });
  t.equal(usage.status, 2);
  t.match(usage.stderr, "--max-behind takes a whole number of majors, not 'one'");
});
