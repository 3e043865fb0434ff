// The built server (dist/server/main.js) as a real child process, as `npm start` runs it, for tests that
// read its stderr, send it signals or wait for its exit code. Port choice, polling and the clean-up of
// stray processes are the shared ones of deploy/local-stack.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT, SERVER_MAIN, freePort, killOnExit, waitUntil } from '../../deploy/local-stack.js';

export { freePort };

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  port: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
}

export function spawnServer(env: Record<string, string>, args: string[] = []): Omit<ServerProcess, 'url' | 'port'> {
  const child = spawn(process.execPath, [SERVER_MAIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'warn', WORKERS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => { out += chunk; });
  child.stderr.on('data', (chunk) => { err += chunk; });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Starts the server on a free port and waits until /api/health answers (fails if the process exits first). */
export async function startServerProcess(env: Record<string, string> = {}, args: string[] = []): Promise<ServerProcess> {
  const port = env.PORT !== undefined ? Number(env.PORT) : await freePort();
  const started = spawnServer({ ...env, PORT: String(port) }, args);
  const url = `http://127.0.0.1:${port}`;
  let exitCode: number | string | undefined;
  void started.exited.then((code) => { exitCode = code; });
  await waitUntil(async () => (await fetch(`${url}/api/health`)).ok, {
    timeoutMs: 60_000,
    what: `${url}/api/health`,
    process: { name: 'server', child: started.child, output: started.stderr, exitCode: () => exitCode, stop: async () => { started.child.kill('SIGKILL'); } },
  }).catch((error: Error) => {
    started.child.kill('SIGKILL');
    throw error;
  });
  return { ...started, url, port };
}
