// The project's own npm configuration makes npm print no warning (an `npm warn Unknown project config` on
// every command was the first thing a newcomer saw), and .ci/run's filter catches such warnings.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';

const ROOT = new URL('..', import.meta.url).pathname;

t.test('npm commands in the project print no warning about its configuration', async (t) => {
  const result = spawnSync('npm', ['pkg', 'get', 'name'], { cwd: ROOT, encoding: 'utf8' });
  t.equal(result.status, 0);
  t.equal(result.stdout.trim(), '"tweet-sentiment-service"');
  t.notMatch(result.stderr, /npm warn/i, result.stderr);
});

t.test('package.json denies onnxruntime-node its install script (the CUDA download) through allowScripts', async (t) => {
  const manifest = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { allowScripts: Record<string, boolean> };
  t.equal(manifest.allowScripts['onnxruntime-node'], false);
  t.match(readFileSync(`${ROOT}Dockerfile.gpu`, 'utf8'), /ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install/, 'the GPU image still asks for CUDA 12');
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
