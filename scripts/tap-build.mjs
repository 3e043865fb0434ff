// npm install's last step (package.json postinstall): builds tap for the plugins package.json's `tap.plugin`
// names. Left to itself, tap notices a plugin list it was not built for only on its next run, rebuilds, and
// still starts that run's tests with the loaders it was built with: after a fresh install, its default
// TypeScript loader, ts-node, which compiles again in every worker thread (a service start then takes seconds
// instead of one), where the config asks for tsx. An install without the dev dependencies has no tap and
// nothing to build.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

try {
  createRequire(import.meta.url).resolve('tap/package.json');
} catch {
  process.exit(0);
}
// npm puts node_modules/.bin first on PATH for its scripts.
const build = spawnSync('tap', ['build'], { stdio: 'inherit' });
process.exit(build.status ?? 1);
