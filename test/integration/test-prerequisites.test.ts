// The pretest step's decisions (scripts/test-prerequisites.mjs): which programs are missing, and then either
// the apt-get commands it runs (Debian as root) or the lines it stops with. The decisions are checked with an
// injected file lookup, so the test installs nothing; the script itself is run once as a user without root
// and with an empty PATH, where it must stop at once and install nothing.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { TOOLS, missingTools, plan, searchDirs } from '../../scripts/test-prerequisites.mjs';

const SCRIPT = new URL('../../scripts/test-prerequisites.mjs', import.meta.url).pathname;
const tool = (command: string) => TOOLS.find((candidate) => candidate.command === command)!;
/** A machine whose only executables are `present` (full paths). */
const lookup = (present: string[]) => (path: string) => present.includes(path);

t.test('a program is found in PATH or in the sbin directories a non-root PATH lacks', async (t) => {
  const dirs = searchDirs('/opt/bin:/usr/bin');
  t.same(dirs, ['/opt/bin', '/usr/bin', '/usr/sbin', '/usr/local/sbin', '/sbin']);
  const present = ['/usr/sbin/nginx', '/usr/bin/prometheus', '/usr/bin/promtool', '/opt/bin/redis-server', '/usr/bin/docker-compose', '/usr/sbin/dockerd', '/usr/sbin/debootstrap', '/usr/bin/openssl', '/usr/bin/curl', '/usr/bin/chromium', '/usr/bin/python3'];
  const importsAll = () => true;
  t.same(missingTools(TOOLS, dirs, lookup(present), importsAll), [], 'nothing missing');
  t.same(missingTools(TOOLS, dirs, lookup(present.filter((p) => !p.endsWith('/redis-server') && !p.endsWith('/chromium'))), importsAll).map((x) => x.command),
    ['redis-server', 'chromium']);
  const asked: [string, string[]][] = [];
  const withoutOnnx = missingTools(TOOLS, dirs, lookup(present), (python, modules) => { asked.push([python, modules]); return false; });
  t.same(withoutOnnx.map((x) => x.command), ['python3'], 'a python3 that does not import numpy and onnx is missing');
  t.same(asked, [['/usr/bin/python3', ['numpy', 'onnx']]], 'the python3 found is asked to import them');
  const pyenvFirst = missingTools(TOOLS, dirs, lookup([...present, '/opt/bin/python3']), (python) => python === '/usr/bin/python3');
  t.same(pyenvFirst, [], 'another python3 ahead in PATH without them: Debian\'s, which has them, is found');
  t.same(plan([], { platform: 'linux', isRoot: true, hasApt: true }), { action: 'none' }, 'nothing to do: the suite starts');
});

t.test('Debian as root: apt-get update, then one install of the missing packages, then stop what Debian started', async (t) => {
  const missing = missingTools(TOOLS, searchDirs('/usr/bin'), lookup(['/usr/bin/openssl', '/usr/bin/docker-compose', '/usr/bin/curl']));
  t.same(missing.map((x) => x.command), ['nginx', 'prometheus', 'promtool', 'redis-server', 'dockerd', 'debootstrap', 'chromium', 'python3']);
  t.same(plan(missing, { platform: 'linux', isRoot: true, hasApt: true }), {
    action: 'install',
    commands: [
      ['apt-get', 'update', '-qq'],
      // promtool comes with prometheus: one package, named once.
      ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'nginx', 'prometheus', 'redis-server', 'docker.io', 'debootstrap', 'chromium', 'fonts-dejavu-core', 'python3-onnx', 'python3-numpy'],
    ],
    services: ['nginx', 'prometheus', 'redis-server'],
  });
  t.same(plan([tool('openssl')], { platform: 'linux', isRoot: true, hasApt: true }),
    { action: 'install', commands: [['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'openssl']], services: [] },
    'a tool that is no service: nothing to stop');
});

t.test('without root, or without apt, it stops with one line per missing program and how to install it', async (t) => {
  const missing = [tool('nginx'), tool('promtool'), tool('chromium')];
  const debianUser = plan(missing, { platform: 'linux', isRoot: false, hasApt: true });
  t.same(debianUser, {
    action: 'stop',
    lines: [
      'npm test needs nginx (the load balancer in front of the replicas): install it with sudo apt-get install -y nginx',
      'npm test needs promtool (checks and unit-tests the alert rules): install it with sudo apt-get install -y prometheus',
      'npm test needs chromium (the playground page in a real browser): install it with sudo apt-get install -y chromium',
      'or all at once: sudo apt-get install -y --no-install-recommends nginx prometheus chromium fonts-dejavu-core',
    ],
  });
  t.same(plan(missing, { platform: 'darwin', isRoot: false, hasApt: false }), {
    action: 'stop',
    lines: [
      'npm test needs nginx (the load balancer in front of the replicas): install it with brew install nginx',
      'npm test needs promtool (checks and unit-tests the alert rules): install it with brew install prometheus',
      'npm test needs chromium (the playground page in a real browser): install it with brew install --cask chromium',
    ],
  });
  t.same(plan([tool('dockerd')], { platform: 'darwin', isRoot: false, hasApt: false }),
    { action: 'stop', lines: ['npm test needs dockerd (the Docker engine that builds and runs the images): Linux only: run the tests on Debian or Ubuntu'] },
    'what only Linux has: no Homebrew formula is made up');
  const otherLinux = plan([tool('redis-server')], { platform: 'linux', isRoot: true, hasApt: false });
  t.same(otherLinux, { action: 'stop', lines: ["npm test needs redis-server (shared rate limits and cache): install it with your package manager's redis-server package"] },
    'root on a Linux without apt-get: it does not guess a package manager');
});

t.test('the script run without root and with nothing on PATH stops within a second, installing nothing', async (t) => {
  const emptyDir = mkdtempSync(join(tmpdir(), 'no-tools-'));
  chmodSync(emptyDir, 0o755);
  const started = performance.now();
  // As root (CI), run it as nobody: without root it must never call apt-get.
  const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  // env -i: the script sees only this PATH (tap's own NODE_OPTIONS for its children would follow otherwise).
  const result = spawnSync('/usr/bin/env', ['-i', `PATH=${emptyDir}`, process.execPath, SCRIPT], { cwd: emptyDir, encoding: 'utf8', timeout: 10_000, ...asUser });
  const elapsed = performance.now() - started;
  t.equal(result.status, 1, 'exit 1');
  t.ok(elapsed < 1000, `stopped in ${elapsed.toFixed(0)} ms`);
  const lines = result.stderr.trim().split('\n');
  // The sbin directories are still searched, so the count depends on this machine; the binaries in /usr/bin
  // (redis-server, openssl, chromium, …) are never found through an empty PATH.
  t.ok(lines.some((line) => line.startsWith('npm test needs redis-server (')), 'names redis-server');
  t.ok(lines.some((line) => line.startsWith('npm test needs chromium (')), 'names chromium');
  for (const line of lines) t.match(line, /^(npm test needs \S+ \(.+\): install it with .+|or all at once: .+)$/, 'every line names a program and its install command');
  t.notMatch(result.stdout + result.stderr, /Reading package lists|apt-get update/, 'no apt-get ran');
});
