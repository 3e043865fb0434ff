// The project's own npm configuration makes npm print no warning (an `npm warn Unknown project config` on
// every command was the first thing a newcomer saw), npm runs the install scripts the project allows and not
// onnxruntime-node's (its CUDA download), and .ci/run's filter catches warnings about the configuration.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';

const ROOT = new URL('../..', import.meta.url).pathname;

t.test('npm commands in the project print no warning about its configuration', async (t) => {
  const result = spawnSync('npm', ['pkg', 'get', 'name'], { cwd: ROOT, encoding: 'utf8' });
  t.equal(result.status, 0);
  t.equal(result.stdout.trim(), '"tweet-sentiment-service"');
  t.notMatch(result.stderr, /npm warn/i, result.stderr);
});

t.test('npm runs an allowed install script (esbuild\'s) and never onnxruntime-node\'s (the CUDA download)', async (t) => {
  // npm rebuild runs packages' install scripts as npm install does, under the same allowScripts policy. Should
  // the policy ever let onnxruntime-node's through, ONNXRUNTIME_NODE_INSTALL=skip keeps it from downloading,
  // and npm's log still names it.
  const result = spawnSync('npm', ['rebuild', 'onnxruntime-node', 'esbuild', '--foreground-scripts', '--loglevel=info'], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  t.equal(result.status, 0, result.stderr);
  const log = result.stdout + result.stderr;
  t.match(log, /npm info run esbuild@[\d.]+ postinstall/, 'esbuild\'s install script runs: scripts are not simply all off');
  t.notMatch(log, /run onnxruntime-node@/, 'onnxruntime-node\'s install script does not run');
  t.notMatch(log, /npm warn/i, 'and npm warns about nothing');
});

t.test(".ci/run's filter catches warnings from project config and lets dependency warnings through", async (t) => {
  const script = readFileSync(`${ROOT}.ci/run`, 'utf8');
  const pattern = /project_config_warnings='([^']+)'/.exec(script)?.[1];
  t.ok(pattern, '.ci/run declares its filter');
  const grep = (line: string) => spawnSync('grep', ['-E', pattern!], { input: `${line}\n`, encoding: 'utf8' }).status === 0;
  t.ok(grep('npm warn Unknown project config "onnxruntime-node-install". This will stop working in the next major version of npm.'));
  t.ok(grep('npm warn Unknown user config "always-auth". This will stop working in the next major version of npm.'));
  t.ok(grep('npm warn install-scripts 1 package has install scripts not yet covered by allowScripts:'));
  t.notOk(grep("npm warn EBADENGINE Unsupported engine {"), 'a dependency\'s engine warning is not the project\'s');
  t.notOk(grep('added 491 packages in 15s'));
});
