// The Docker engine of the system test (test/system/docker.test.ts): the one already running, else dockerd started
// here (it needs root) and stopped again when the test ends; thin wrappers over the docker and docker-compose
// command lines, which are what a user runs.
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { ROOT, cleanEnv, findBinary, launch, run, waitUntil } from '../../deploy/local-stack.js';

export const DOCKER = findBinary('docker');
export const DOCKER_COMPOSE = findBinary('docker-compose');

/**
 * The environment of every docker and docker-compose command: the caller's, without settings that would
 * change what is built or which project is meant (BuildKit, COMPOSE_FILE, COMPOSE_PROJECT_NAME, profiles):
 * docker-compose v1 builds with the classic builder, as it does for a user who sets nothing.
 */
export const DOCKER_ENV = (() => {
  const env = cleanEnv({});
  for (const key of Object.keys(env)) {
    if (key.startsWith('COMPOSE_') || key === 'DOCKER_BUILDKIT') delete env[key];
  }
  return env;
})();

export interface Ran { code: number | null; stdout: string; stderr: string }

/** `docker args…`; throws with its output unless it exits 0; returns stdout, trimmed. */
export async function docker(args: string[], timeoutMs = 120_000): Promise<string> {
  const result = await run(DOCKER, args, { env: DOCKER_ENV, timeoutMs });
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`.slice(0, 8000));
  return result.stdout.trim();
}

export async function imagePresent(tag: string): Promise<boolean> {
  return (await run(DOCKER, ['image', 'inspect', tag], { env: DOCKER_ENV })).code === 0;
}

/** Bytes, as `docker images` counts them (all layers). */
export async function imageBytes(tag: string): Promise<number> {
  return Number(await docker(['image', 'inspect', '--format', '{{.Size}}', tag]));
}

/** starting, healthy or unhealthy (the image's HEALTHCHECK), or none. */
export async function healthOf(container: string): Promise<string> {
  return docker(['inspect', '--format', '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}', container]);
}

/** The container's address on its (one) network. */
export async function addressOf(container: string): Promise<string> {
  return docker(['inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', container]);
}

/**
 * The status of GET `url`, or 0 when no answer comes (refused, reset, 5 s). For polling a port that Docker
 * publishes: docker-proxy accepts the connection before the container listens and then resets it, and
 * fetch (Node 20's undici) can wait on such a connection forever.
 */
export function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
  });
}

export interface Engine {
  /** Whether this test started dockerd (and so stops it). */
  startedHere: boolean;
  version: string;
  stop(): Promise<void>;
}

/** The running engine, or dockerd started now (as root), waited for until it answers. */
export async function startEngine(): Promise<Engine> {
  const version = async () => (await run(DOCKER, ['version', '--format', '{{.Server.Version}}'], { env: DOCKER_ENV, timeoutMs: 10_000 })).stdout.trim();
  const running = await version();
  if (running) return { startedHere: false, version: running, stop: async () => undefined };
  if (process.getuid?.() !== 0) {
    throw new Error('no Docker engine answers, and only root can start one here: start it (sudo service docker start) or run the tests as root');
  }
  const dockerd = launch('dockerd', findBinary('dockerd'), [], { env: DOCKER_ENV });
  let started = '';
  await waitUntil(async () => Boolean(started = await version()), { timeoutMs: 60_000, intervalMs: 250, what: 'dockerd to answer', process: dockerd });
  // Containers stop first; dockerd then exits on its own within its shutdown timeout.
  return { startedHere: true, version: started, stop: () => dockerd.stop('SIGTERM', 30_000) };
}

export interface NginxLogLine { uri: string; status: number; remote_addr: string; upstream_addr: string }

/** docker-compose for one project and one .env file, run from the repository (the compose file's folder). */
export function composeProject(project: string, envFile: string) {
  const base = ['-p', project, '--env-file', envFile, '-f', 'docker-compose.yml'];
  return {
    project,
    /** The command line a person would type, for scripts that take it (COMPOSE= of rolling-restart.sh). */
    commandLine: [DOCKER_COMPOSE, ...base].join(' '),
    run(args: string[], timeoutMs = 180_000): Promise<Ran> {
      return run(DOCKER_COMPOSE, [...base, ...args], { env: DOCKER_ENV, timeoutMs });
    },
    /** Ids of a service's running containers. */
    async containers(service: string): Promise<string[]> {
      const ids = await docker(['ps', '-q', '--filter', `label=com.docker.compose.project=${project}`, '--filter', `label=com.docker.compose.service=${service}`]);
      return ids ? ids.split('\n') : [];
    },
    /** The addresses of a service's running containers, sorted. */
    async addresses(service: string): Promise<string[]> {
      return (await Promise.all((await this.containers(service)).map(addressOf))).sort();
    },
    /** NGINX's JSON access log lines (the nginx service's stdout). */
    async nginxLog(): Promise<NginxLogLine[]> {
      const [id] = await this.containers('nginx');
      return (await docker(['logs', id!], 30_000)).split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as NginxLogLine);
    },
    /** Everything of the project the engine still holds: containers, networks, volumes. */
    async leftovers(): Promise<string[]> {
      const label = `label=com.docker.compose.project=${project}`;
      const lists = await Promise.all([
        docker(['ps', '-a', '-q', '--filter', label]).then((out) => out.split('\n').filter(Boolean).map((id) => `container ${id}`)),
        docker(['network', 'ls', '-q', '--filter', label]).then((out) => out.split('\n').filter(Boolean).map((id) => `network ${id}`)),
        docker(['volume', 'ls', '-q', '--filter', label]).then((out) => out.split('\n').filter(Boolean).map((id) => `volume ${id}`)),
      ]);
      return lists.flat();
    },
  };
}

/**
 * The addresses of the api replicas that Prometheus (its API on `port` of this host) has found, sorted; with
 * `up`, only those its last scrape reached.
 */
export async function prometheusTargets(port: number, { up }: { up: boolean }): Promise<string[]> {
  const targets = await (await fetch(`http://127.0.0.1:${port}/api/v1/targets?state=active`)).json() as { data: { activeTargets: { labels: { job: string; instance: string }; health: string }[] } };
  return targets.data.activeTargets.filter((target) => target.labels.job === 'api' && (!up || target.health === 'up')).map((target) => target.labels.instance.replace(/:5000$/, '')).sort();
}

/** The .env the README builds (`cat .env.example deploy/.env.example > .env`) with `settings` set in it. */
export function readmeEnv(settings: Record<string, string | number>): string {
  let env = `${readFileSync(join(ROOT, '.env.example'), 'utf8')}${readFileSync(join(ROOT, 'deploy/.env.example'), 'utf8')}`;
  for (const [key, value] of Object.entries(settings)) {
    const line = new RegExp(`^${key}=.*$`, 'm');
    env = line.test(env) ? env.replace(line, `${key}=${value}`) : `${env}\n${key}=${value}\n`;
  }
  return env;
}
