// deploy/README.md's admin calls, run as written against a real replica process (dist/server/main.js with
// ADMIN_API_KEYS, as in a container): the `node -e` one-liner for `docker-compose exec`, and the curl.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { startServerProcess } from '../helpers/process.js';

const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;
const readme = readFileSync(new URL('../../deploy/README.md', import.meta.url), 'utf8');
const ADMIN_KEY = 'deploy-admin-key-81f3';

t.test('the admin calls deploy/README.md gives reload the replica', async (t) => {
  const oneLiner = /docker-compose exec --index=1 api node -e "([^"]+)"/.exec(readme)?.[1];
  const curl = /^curl -s -X POST -H "Authorization: Bearer \$ADMIN_KEY" (http:\/\/127\.0\.0\.1:5000\/api\/admin\/reload)$/m.exec(readme)?.[1];
  t.ok(oneLiner, 'deploy/README.md has the docker-compose exec one-liner');
  t.ok(curl, 'and the curl');

  const server = await startServerProcess({ MODEL_PATH: `${FIXTURES}bert-tiny`, ADMIN_API_KEYS: `${ADMIN_KEY},second-admin-key` });
  t.teardown(() => { server.child.kill('SIGKILL'); });
  // The replica listens on 5000 in the container; here on a free port.
  const atPort = (text: string) => text.replace('127.0.0.1:5000', `127.0.0.1:${server.port}`);

  // As `docker-compose exec` runs it: inside the replica's environment, where ADMIN_API_KEYS is set.
  const node = spawnSync('/usr/bin/env', ['-i', `ADMIN_API_KEYS=${ADMIN_KEY},second-admin-key`, process.execPath, '-e', atPort(oneLiner!)], { encoding: 'utf8', timeout: 30_000 });
  t.equal(node.status, 0, `node one-liner exits 0: ${node.stderr}`);
  t.match(node.stdout, /^200 \{"status":"unchanged"/, 'and prints the reload\'s answer');

  const curlRun = spawnSync('curl', ['-s', '-X', 'POST', '-H', `Authorization: Bearer ${ADMIN_KEY}`, atPort(curl!)], { encoding: 'utf8', timeout: 30_000 });
  t.equal(curlRun.status, 0);
  t.match(JSON.parse(curlRun.stdout), { status: 'unchanged' }, 'curl reloads too');
});
