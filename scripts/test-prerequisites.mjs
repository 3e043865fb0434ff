// `npm test`'s pretest step: the programs the tests run for real (NGINX, Prometheus and promtool, Redis,
// docker-compose and the Docker engine, debootstrap, openssl, curl, Chromium, Python with numpy and onnx)
// must be there before the suite starts, not discovered missing one failing test at a time. On Debian or
// Ubuntu as root (CI, a fresh VM) it installs what is missing with apt-get and stops the services Debian
// starts on install (the tests run their own instances on free ports); anywhere else it stops at once with
// one line per missing program and the command that installs it.
// Plain Node, no dependencies: it runs before anything is built.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * What the tests run, by the command they look up, with its Debian package and Homebrew formula (none for
 * what only Linux has: the Docker test runs dockerd itself and bootstraps Debian roots).
 * `service`: Debian starts it on install; stopped so that it holds no port the tests might pick.
 */
export const TOOLS = [
  { command: 'nginx', apt: 'nginx', brew: 'nginx', service: 'nginx', why: 'the load balancer in front of the replicas' },
  { command: 'prometheus', apt: 'prometheus', brew: 'prometheus', service: 'prometheus', why: 'scrapes the real metrics' },
  { command: 'promtool', apt: 'prometheus', brew: 'prometheus', why: 'checks and unit-tests the alert rules' },
  { command: 'redis-server', apt: 'redis-server', brew: 'redis', service: 'redis-server', why: 'shared rate limits and cache' },
  { command: 'docker-compose', apt: 'docker-compose', brew: 'docker-compose', why: 'validates docker-compose.yml and runs the stack' },
  // The engine: test/system/docker.test.ts starts dockerd itself when none runs (as root) and stops it after.
  { command: 'dockerd', apt: 'docker.io', why: 'the Docker engine that builds and runs the images' },
  { command: 'debootstrap', apt: 'debootstrap', why: 'builds the base images without Docker Hub (deploy/base-images.sh)' },
  { command: 'openssl', apt: 'openssl', brew: 'openssl', why: 'a TLS test certificate' },
  { command: 'curl', apt: 'curl', brew: 'curl', why: 'runs the deployment guide\'s admin call as written' },
  // With a font: Debian's chromium depends on none, and a page without one lays out no text for screenshots.
  { command: 'chromium', apt: 'chromium', aptAlso: ['fonts-dejavu-core'], brew: '--cask chromium', why: 'the playground page in a real browser' },
  // `modules`: found only if this Python imports them too.
  { command: 'python3', modules: ['numpy', 'onnx'], apt: 'python3-onnx', aptAlso: ['python3-numpy'], brew: 'numpy onnx', why: 'makes small ONNX models of other heads when the tests run (numpy, onnx)' },
];

/** Where the tests look: PATH, plus the sbin directories a non-root PATH may lack (NGINX lives there). */
export function searchDirs(pathVariable) {
  return [...(pathVariable ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin', '/sbin'];
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether the Python at `python` imports every one of `modules`. */
function imports(python, modules) {
  return spawnSync(python, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore', timeout: 30_000 }).status === 0;
}

/**
 * The tools whose command is in none of `dirs`, or, for a tool with `modules`, none of whose copies imports
 * them (a pyenv or virtualenv python3 ahead of Debian's in PATH may lack them; the tests run Debian's,
 * /usr/bin/python3); `exists(path)` and `importsAll(path, modules)` are injectable so tests change nothing.
 */
export function missingTools(tools, dirs, exists = isExecutable, importsAll = imports) {
  return tools.filter((tool) => !dirs.some((dir) => {
    const path = join(dir, tool.command);
    return exists(path) && (tool.modules === undefined || importsAll(path, tool.modules));
  }));
}

/**
 * What to do about the missing tools, without doing it.
 * `machine`: { platform ('linux', 'darwin', …), isRoot, hasApt (apt-get and /etc/debian_version) }.
 * Returns { action: 'none' } | { action: 'install', commands: string[][], services } | { action: 'stop', lines }.
 */
export function plan(missing, machine) {
  if (missing.length === 0) return { action: 'none' };
  const packages = [...new Set(missing.flatMap((tool) => [tool.apt, ...(tool.aptAlso ?? [])]))];
  if (machine.platform === 'linux' && machine.hasApt && machine.isRoot) {
    return {
      action: 'install',
      commands: [
        ['apt-get', 'update', '-qq'],
        ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages],
      ],
      services: [...new Set(missing.flatMap((tool) => (tool.service ? [tool.service] : [])))],
    };
  }
  const install = (tool) => {
    if (machine.platform === 'darwin') return tool.brew ? `install it with brew install ${tool.brew}` : 'Linux only: run the tests on Debian or Ubuntu';
    if (machine.hasApt) return `install it with sudo apt-get install -y ${tool.apt}`;
    return `install it with your package manager's ${tool.apt} package`;
  };
  return {
    action: 'stop',
    lines: [
      ...missing.map((tool) => `npm test needs ${tool.command} (${tool.why}): ${install(tool)}`),
      ...(machine.platform === 'linux' && machine.hasApt
        ? [`or all at once: sudo apt-get install -y --no-install-recommends ${packages.join(' ')}`]
        : []),
    ],
  };
}

function run(command) {
  const result = spawnSync(command[0], command.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.status !== 0) {
    console.error(`test prerequisites: '${command.join(' ')}' failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
}

function main() {
  const dirs = searchDirs(process.env.PATH);
  const missing = missingTools(TOOLS, dirs);
  const machine = {
    platform: process.platform,
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    // Looked up in its fixed place, not through PATH: the advice is about the machine, not this shell.
    hasApt: existsSync('/etc/debian_version') && existsSync('/usr/bin/apt-get'),
  };
  const decision = plan(missing, machine);
  if (decision.action === 'none') return;
  if (decision.action === 'stop') {
    for (const line of decision.lines) console.error(line);
    process.exit(1);
  }
  console.error(`test prerequisites: installing ${missing.map((tool) => tool.command).join(', ')} with apt-get`);
  for (const command of decision.commands) run(command);
  // Debian starts these on install; the tests start their own on free loopback ports.
  for (const service of decision.services) spawnSync('service', [service, 'stop'], { stdio: 'ignore' });
  const still = missingTools(TOOLS, dirs);
  if (still.length > 0) {
    console.error(`test prerequisites: still missing after apt-get: ${still.map((tool) => tool.command).join(', ')}`);
    process.exit(1);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
