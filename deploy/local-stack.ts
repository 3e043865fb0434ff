// Real processes on loopback for deployment tests and benchmarks (run from source, with tsx): api replicas (the built service,
// dist/server/main.js), NGINX with the project's nginx.conf and Prometheus with the project's scrape config,
// both rendered for loopback by deploy/render-local.mjs. Every process started here is killed when the
// test process exits, even if a test forgets to stop it.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NGINX_CONF, PROMETHEUS_YML, TLS_CONF_EXAMPLE, renderNginxConf, renderPrometheusConfig, renderTlsConf } from './render-local.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SERVER_MAIN = join(ROOT, 'dist/server/main.js');
export const FIXTURE_MODEL = join(ROOT, 'test/fixtures/bert-tiny');

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Kills `child` when this process exits, if it is still running then. */
export function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/** A free TCP port on `host` (the OS picks it; another process could take it before we bind it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls `check` until it returns true; fails early when `process` exits, with its output. */
export async function waitUntil(check: () => Promise<boolean> | boolean, { timeoutMs = 20_000, intervalMs = 100, what = 'condition', process }: {
  timeoutMs?: number; intervalMs?: number; what?: string; process?: ManagedProcess;
} = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (process?.exitCode() !== undefined) throw new Error(`${process.name} exited (${process.exitCode()}) while waiting for ${what}:\n${process.output()}`);
    if (await Promise.resolve().then(check).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${process ? `; ${process.name} output:\n${process.output()}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function tcpAccepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = connect({ host, port });
    socket.once('connect', () => { socket.destroy(); resolveOpen(true); });
    socket.once('error', () => resolveOpen(false));
  });
}

/** An executable by name from PATH, or from the sbin directories that a non-root PATH may lack. */
export function findBinary(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch { /* next */ }
  }
  throw new Error(`${name} not found on PATH (Debian: apt-get install ${name === 'promtool' ? 'prometheus' : name})`);
}

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  /** The last 64 KiB of stdout and stderr. */
  output(): string;
  exitCode(): number | string | undefined;
  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/** Starts a command with its output kept in memory (bounded). */
export function launch(name: string, command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ManagedProcess {
  const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let buffer = '';
  const keep = (chunk: Buffer) => { buffer = (buffer + chunk.toString()).slice(-65_536); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exit: number | string | undefined;
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', (code, signal) => { exit = code ?? signal ?? 'unknown'; running.delete(child); resolveExit(); });
    child.once('error', (error) => { exit = `spawn error: ${error.message}`; running.delete(child); resolveExit(); });
  });
  return {
    name,
    child,
    output: () => buffer,
    exitCode: () => exit,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (exit !== undefined) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The environment of a process under test: ours without the test runner's hooks (coverage loaders). */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_OPTIONS' || /^_?TAP/.test(key) || key.startsWith('npm_')) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

export interface Replica {
  url: string;
  port: number;
  /** host:port, for NGINX upstreams and Prometheus targets. */
  address: string;
  process: ManagedProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ReplicaOptions {
  /** Model directory; default the bert-tiny test fixture. */
  modelPath?: string;
  host?: string;
  /** Default: a free port. */
  port?: number;
  /** Extra settings (WORKERS defaults to 1, LOG_LEVEL to warn). */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Node options before the script, e.g. `--cpu-prof` (which NODE_OPTIONS does not take). */
  nodeArgs?: string[];
  /** The server to run (default this checkout's dist/server/main.js; benchmarks run another checkout's). */
  serverMain?: string;
}

/** Starts `node dist/server/main.js` (run `npm run build` first) and waits until /api/ready answers 200. */
export async function startReplica(options: ReplicaOptions = {}): Promise<Replica> {
  const serverMain = options.serverMain ?? SERVER_MAIN;
  if (!existsSync(serverMain)) throw new Error(`${serverMain} is missing: run npm run build first`);
  const host = options.host ?? '127.0.0.1';
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? await freePort(host);
    const proc = launch(`replica :${port}`, process.execPath, [...options.nodeArgs ?? [], serverMain], {
      env: cleanEnv({
        MODEL_PATH: options.modelPath ?? FIXTURE_MODEL,
        WORKERS: '1',
        LOG_LEVEL: 'warn',
        ...options.env,
        HOST: host,
        PORT: String(port),
      }),
    });
    const url = `http://${host}:${port}`;
    try {
      await waitUntil(async () => (await fetch(`${url}/api/ready`)).status === 200, { timeoutMs: options.timeoutMs ?? 30_000, process: proc, what: `${url}/api/ready` });
    } catch (error) {
      await proc.stop('SIGKILL');
      // The free port was taken between our probe and the replica's listen: try another one.
      if (options.port === undefined && attempt < 3 && /EADDRINUSE|cannot listen/.test(proc.output())) continue;
      throw error;
    }
    return { url, port, address: `${host}:${port}`, process: proc, stop: (signal) => proc.stop(signal) };
  }
}

export interface Nginx {
  url: string;
  port: number;
  dir: string;
  process: ManagedProcess;
  /** The JSON access log, one object per request. */
  accessLog(): Record<string, unknown>[];
  /**
   * The access log's lines that `match`, once there are `count` of them or 5 s have passed: NGINX writes a
   * request's line after its answer has gone, so the last answered requests may not be in the log yet.
   */
  awaitAccessLog(match: (entry: Record<string, unknown>) => boolean, count: number): Promise<Record<string, unknown>[]>;
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * Runs NGINX on an already rendered configuration (see startLocalNginx for the project's nginx.conf).
 * `dir` holds the configuration, logs, pid and temp files; `port` is the address the configuration listens on.
 */
export async function startNginx({ conf, dir, port }: { conf: string; dir: string; port: number }): Promise<Nginx> {
  mkdirSync(dir, { recursive: true });
  // A root master runs its workers as nobody: they must reach the temp directories under `dir`.
  if (process.getuid?.() === 0) chmodSync(dir, 0o755);
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, conf);
  const proc = launch(`nginx :${port}`, findBinary('nginx'), ['-p', `${dir}/`, '-c', confPath, '-e', join(dir, 'error.log'), '-g', 'daemon off;']);
  await waitUntil(() => tcpAccepts(port), { timeoutMs: 10_000, process: proc, what: `nginx listening on ${port}` });
  const read = (file: string) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8') : '');
  const accessLog = () => read('access.log').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    process: proc,
    accessLog,
    async awaitAccessLog(match, count) {
      const matching = () => accessLog().filter(match);
      await waitUntil(async () => matching().length >= count, { timeoutMs: 5_000, intervalMs: 20, what: `${count} access log lines` }).catch(() => undefined);
      return matching();
    },
    errorLog: () => read('error.log'),
    // SIGQUIT: graceful (finish requests in flight); SIGKILL after the grace period.
    stop: () => proc.stop('SIGQUIT', 5_000),
  };
}

export interface LocalNginxOptions {
  dir: string;
  /** host:port of each replica. */
  upstreams: string[];
  port?: number;
  /** HTTPS as well: deploy/nginx/tls/tls.conf.example rendered with this certificate (tls.crt, tls.key in certDir). */
  tls?: { port: number; certDir: string };
  /** Benchmarks only: another per-client rate limit than nginx.conf's. */
  limitReq?: { rate: string; burst: number };
}

/** The project's nginx.conf, rendered for loopback by deploy/render-local.mjs, in front of `upstreams`. */
export async function startLocalNginx(options: LocalNginxOptions): Promise<Nginx & { tlsUrl?: string }> {
  const port = options.port ?? await freePort();
  const tlsDir = join(options.dir, 'tls');
  mkdirSync(tlsDir, { recursive: true });
  if (options.tls) {
    const tlsConf = renderTlsConf(readFileSync(TLS_CONF_EXAMPLE, 'utf8'), { listen: `127.0.0.1:${options.tls.port}`, certDir: options.tls.certDir });
    writeFileSync(join(tlsDir, 'tls.conf'), tlsConf);
  }
  const conf = renderNginxConf(readFileSync(NGINX_CONF, 'utf8'), {
    upstreams: options.upstreams, listen: `127.0.0.1:${port}`, dir: options.dir, tlsDir, limitReq: options.limitReq,
  });
  const nginx = await startNginx({ conf, dir: options.dir, port });
  if (options.tls) await waitUntil(() => tcpAccepts(options.tls!.port), { timeoutMs: 5_000, process: nginx.process, what: 'nginx TLS port' });
  return { ...nginx, ...(options.tls ? { tlsUrl: `https://127.0.0.1:${options.tls.port}` } : {}) };
}

export interface PromResult {
  status: string;
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value?: [number, string] }[] };
}

export interface Prometheus {
  url: string;
  port: number;
  process: ManagedProcess;
  /** An instant query through the HTTP API (POST /api/v1/query). */
  query(expr: string): Promise<PromResult>;
  get<T = unknown>(path: string): Promise<T>;
  stop(): Promise<void>;
}

/** Runs Prometheus on a rendered configuration, its data under `dir`, and waits until it is ready. */
export async function startPrometheus({ config, dir, port }: { config: string; dir: string; port?: number }): Promise<Prometheus> {
  mkdirSync(dir, { recursive: true });
  const listenPort = port ?? await freePort();
  const configPath = join(dir, 'prometheus.yml');
  writeFileSync(configPath, config);
  const proc = launch(`prometheus :${listenPort}`, findBinary('prometheus'), [
    `--config.file=${configPath}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${listenPort}`,
    '--log.level=warn',
  ]);
  const url = `http://127.0.0.1:${listenPort}`;
  await waitUntil(async () => (await fetch(`${url}/-/ready`)).ok, { timeoutMs: 20_000, process: proc, what: 'prometheus /-/ready' });
  return {
    url,
    port: listenPort,
    process: proc,
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: expr }) });
      return (await response.json()) as PromResult;
    },
    async get(path) {
      return (await (await fetch(`${url}${path}`)).json()) as never;
    },
    stop: () => proc.stop('SIGTERM', 10_000),
  };
}

/** The project's deploy/prometheus/prometheus.yml (and its alert rules), rendered for loopback, scraping `apiTargets`. */
export async function startLocalPrometheus({ dir, apiTargets, interval = '1s' }: { dir: string; apiTargets: string[]; interval?: string }): Promise<Prometheus> {
  const port = await freePort();
  const config = renderPrometheusConfig(readFileSync(PROMETHEUS_YML, 'utf8'), { apiTargets, selfTarget: `127.0.0.1:${port}`, interval });
  return startPrometheus({ config, dir, port });
}

/** Runs a command to completion: exit code and output. */
export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}
