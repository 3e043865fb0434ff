// The systems a benchmark compares, each started on loopback, measured, and stopped before the next one
// starts (never two at once on a shared CPU):
//   service          the service, N replicas behind NGINX (the project's nginx.conf rendered for loopback)
//   baseline         the same, built in another checkout (--baseline DIR): before/after in one run
//   service-direct   the service, 1 replica, no NGINX, all the cores' workers in it
//   batching-off     as `service`, with MAX_BATCH_SIZE=1
//   batching-off-direct  as `service-direct`, with MAX_BATCH_SIZE=1
//   seed             the seed's design: Flask + PyTorch under gunicorn (bench/baselines/), direct
//   transformersjs   the peer a TypeScript team would write: bench/transformersjs-server.ts replicas behind the same NGINX
//   noop             R_http: bench/noop-server.ts replicas behind the same NGINX
//   ort              R_ort: bench/ort-throughput.ts (ONNX Runtime alone, batched, same threads; no HTTP)
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelFiles } from '../inference/model-files.js';
import {
  cleanEnv, findBinary, freePort, launch, startLocalNginx, startReplica, waitUntil, type ManagedProcess, type Nginx, type Replica,
} from '../deploy/local-stack.js';
import type { Component } from './cpu.js';
import { BENCH_ROOT } from './paths.js';
import type { SystemId } from './system-ids.js';

export { SYSTEM_IDS, SYSTEM_SHORT, SYSTEM_TITLES, type SystemId } from './system-ids.js';

/** How the systems are sized: the same CPU budget for all of them. */
export interface Sizing {
  /** Cores the whole system under test may use (default: the machine's available CPUs). */
  cores: number;
  /** Api replicas behind NGINX. */
  replicas: number;
  /** Inference workers per replica behind NGINX (default cores ÷ replicas, at least 1). */
  workers: number;
  /** ONNX Runtime threads per worker (the service's INTRA_OP_THREADS). */
  intraOpThreads: number;
  /** Extra service settings for every service replica (e.g. MAX_BATCH_WAIT_MS=2). */
  serviceEnv: Record<string, string>;
  /** gunicorn workers, threads per worker and torch threads per worker of the seed baseline. */
  seedWorkers: number;
  seedThreads: number;
  torchThreads: number;
  /** When set, service replicas run under `node --cpu-prof` and write their V8 CPU profiles here on exit. */
  cpuProfDir?: string;
  /** When set, the measured windows are recorded with Linux perf (bench/perf-record.ts) into this directory. */
  perfDir?: string;
}

export interface RunningSystem {
  id: SystemId;
  /** Base URL the load goes to. */
  url: string;
  /** Base URLs of the replicas' own /metrics (empty for the baselines). */
  metricsUrls: string[];
  /** Process trees whose CPU is accounted. */
  components: Record<string, Component>;
  /** The settings the system ran with, for the results file. */
  settings: Record<string, unknown>;
  stop(): Promise<void>;
}

export interface StartOptions {
  model: string;
  /** Model directory of the seed baseline (best_model.pt, config.json, tokenizer.json). */
  seedModel: string;
  sizing: Sizing;
  /** NGINX's per-client limit is raised for the load generator (one client IP playing every user). */
  limitReq?: { rate: string; burst: number };
  /** The checkout whose built service the 'baseline' system runs. */
  baselineDir?: string;
}

/** Why a system cannot run with these options, or undefined when it can. */
export function unavailable(id: SystemId, options: Pick<StartOptions, 'model' | 'seedModel'>): string | undefined {
  if (id === 'seed') {
    for (const file of ['best_model.pt', 'config.json', 'tokenizer.json']) {
      if (!existsSync(join(options.seedModel, file))) return `${join(options.seedModel, file)} is missing (the seed baseline serves the PyTorch checkpoint)`;
    }
    try {
      const config = JSON.parse(readFileSync(join(options.seedModel, 'config.json'), 'utf8')) as { ensemble?: unknown };
      if (config.ensemble === undefined) return `${options.seedModel}/config.json has no "ensemble" (training/model.py's load_model needs it)`;
    } catch (error) {
      return `cannot read ${options.seedModel}/config.json: ${(error as Error).message}`;
    }
    if (!existsSync('/usr/bin/python3')) return '/usr/bin/python3 is missing (apt-get install python3-flask python3-torch gunicorn)';
  }
  if (id === 'ort' && !existsSync(ORT_SCRIPT)) return 'bench/ort-throughput.ts is missing';
  if (id === 'noop' && !existsSync(join(BENCH_ROOT, 'bench/noop-server.ts'))) return 'bench/noop-server.ts is missing';
  if (id === 'transformersjs' && !existsSync(join(BENCH_ROOT, 'node_modules/@huggingface/transformers'))) return '@huggingface/transformers is not installed (npm ci)';
  return undefined;
}

export const DEFAULT_LIMIT_REQ = { rate: '1000000r/s', burst: 1_000_000 };

function serviceEnv(sizing: Sizing, extra: Record<string, string>, workers: number): Record<string, string> {
  return {
    WORKERS: String(workers),
    INTRA_OP_THREADS: String(sizing.intraOpThreads),
    // Benchmarks measure the model, not the prediction cache: 2,000 validation tweets would all be cache hits.
    CACHE_SIZE: '0',
    LOG_LEVEL: 'warn',
    ...sizing.serviceEnv,
    ...extra,
  };
}

async function withNginx(id: SystemId, upstreams: { address: string; process: ManagedProcess }[], options: StartOptions): Promise<{ nginx: Nginx; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), `bench-nginx-${id}-`));
  try {
    const nginx = await startLocalNginx({ dir, upstreams: upstreams.map((u) => u.address), limitReq: options.limitReq ?? DEFAULT_LIMIT_REQ });
    return { nginx, dir };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function startService(id: SystemId, options: StartOptions, behindNginx: boolean, extra: Record<string, string>, serverMain?: string): Promise<RunningSystem> {
  const { sizing } = options;
  const replicas = behindNginx ? sizing.replicas : 1;
  const workers = behindNginx ? sizing.workers : Math.max(1, Math.floor(sizing.cores / sizing.intraOpThreads));
  const env = serviceEnv(sizing, extra, workers);
  const started: Replica[] = [];
  try {
    // One at a time: start-up warms each worker up at the largest batch, which is CPU-heavy.
    for (let i = 0; i < replicas; i++) {
      // Under --cpu-prof every thread (main and workers) writes a .cpuprofile when the replica exits on SIGTERM;
      // under --perf, V8 writes the names of its compiled functions for perf to read.
      const nodeArgs = [
        ...(sizing.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', sizing.cpuProfDir]),
        ...(sizing.perfDir === undefined ? [] : ['--perf-basic-prof']),
      ];
      started.push(await startReplica({ modelPath: options.model, env, timeoutMs: 120_000, nodeArgs, serverMain }));
    }
  } catch (error) {
    await Promise.all(started.map((r) => r.stop()));
    throw error;
  }
  const model = await fetch(`${started[0]!.url}/api/model`).then((r) => (r.ok ? r.json() : undefined)).catch(() => undefined);
  const settings = { replicas, nginx: behindNginx, env, model };
  const stopReplicas = () => Promise.all(started.map((r) => r.stop())).then(() => undefined);
  if (!behindNginx) {
    return {
      id, url: started[0]!.url, metricsUrls: [started[0]!.url], settings,
      components: { replicas: { pids: started.map((r) => r.process.child.pid!), threads: true } },
      stop: stopReplicas,
    };
  }
  let front: { nginx: Nginx; dir: string };
  try {
    front = await withNginx(id, started, options);
  } catch (error) {
    await stopReplicas();
    throw error;
  }
  return {
    id, url: front.nginx.url, metricsUrls: started.map((r) => r.url), settings,
    components: { replicas: { pids: started.map((r) => r.process.child.pid!), threads: true }, nginx: { pids: [front.nginx.process.child.pid!] } },
    async stop() {
      await front.nginx.stop();
      await stopReplicas();
      rmSync(front.dir, { recursive: true, force: true });
    },
  };
}

async function healthy(url: string, proc: ManagedProcess, timeoutMs: number): Promise<void> {
  await waitUntil(async () => (await fetch(`${url}/api/health`)).ok, { timeoutMs, process: proc, what: `${url}/api/health` });
}

export const NOOP_SERVER = join(BENCH_ROOT, 'bench/noop-server.ts');
const TSX = join(BENCH_ROOT, 'node_modules/.bin/tsx');

/** The labels of a model directory (config.json id2label, in logit order), read as the service reads them. */
export function modelLabels(modelDir: string): string[] | undefined {
  try {
    return loadModelFiles(modelDir, { tokenizer: false }).labels;
  } catch {
    return undefined;
  }
}

/**
 * Replicas of a Node peer server of bench/ (one port each, started one at a time until healthy) behind the
 * same NGINX as the service: the compiled file when `npm run build` made it (no loader in the measured
 * process), else through tsx.
 */
async function startPeerReplicas(id: 'noop' | 'transformersjs', script: string, env: Record<string, string>, options: StartOptions, timeoutMs: number): Promise<RunningSystem> {
  const compiled = join(BENCH_ROOT, 'dist', script.replace(/\.ts$/, '.js'));
  const [command, args] = existsSync(compiled) ? [process.execPath, [compiled]] : [TSX, [join(BENCH_ROOT, script)]];
  const started: { address: string; url: string; process: ManagedProcess }[] = [];
  try {
    for (let i = 0; i < options.sizing.replicas; i++) {
      const port = await freePort();
      const proc = launch(`${id} :${port}`, command, args, { env: cleanEnv({ HOST: '127.0.0.1', PORT: String(port), ...env }) });
      const url = `http://127.0.0.1:${port}`;
      started.push({ address: `127.0.0.1:${port}`, url, process: proc });
      await healthy(url, proc, timeoutMs);
    }
  } catch (error) {
    await Promise.all(started.map((s) => s.process.stop()));
    throw error;
  }
  const stopReplicas = () => Promise.all(started.map((s) => s.process.stop())).then(() => undefined);
  let front: { nginx: Nginx; dir: string };
  try {
    front = await withNginx(id, started, options);
  } catch (error) {
    await stopReplicas();
    throw error;
  }
  return {
    id, url: front.nginx.url, metricsUrls: [],
    settings: { replicas: started.length, nginx: true, server: existsSync(compiled) ? `dist/${script.replace(/\.ts$/, '.js')}` : `${script} (tsx)`, env },
    components: { replicas: { pids: started.map((s) => s.process.child.pid!) }, nginx: { pids: [front.nginx.process.child.pid!] } },
    async stop() {
      await front.nginx.stop();
      await stopReplicas();
      rmSync(front.dir, { recursive: true, force: true });
    },
  };
}

function startNoop(options: StartOptions): Promise<RunningSystem> {
  const labels = modelLabels(options.model) ?? ['negative', 'neutral', 'positive'];
  return startPeerReplicas('noop', 'bench/noop-server.ts', { LABELS: labels.join(',') }, options, 30_000);
}

/**
 * Each replica gets the cores of a service replica (workers × intra-op threads) as ONNX Runtime threads, and
 * the service's dtype setting, so that both run the same ONNX file.
 */
function startTransformersJs(options: StartOptions): Promise<RunningSystem> {
  const { sizing } = options;
  return startPeerReplicas('transformersjs', 'bench/transformersjs-server.ts', {
    MODEL_PATH: options.model, THREADS: String(sizing.workers * sizing.intraOpThreads), MODEL_DTYPE: serviceDtype(sizing),
  }, options, 120_000);
}

/** The service's MODEL_DTYPE (or its older name MODEL_PRECISION) among the benchmark's --env settings; auto if unset. */
export function serviceDtype(sizing: Sizing): string {
  return sizing.serviceEnv.MODEL_DTYPE || sizing.serviceEnv.MODEL_PRECISION || 'auto';
}

async function startSeed(options: StartOptions): Promise<RunningSystem> {
  const { sizing } = options;
  const port = await freePort();
  const env = {
    MODEL_PATH: options.seedModel,
    SEED_WORKERS: String(sizing.seedWorkers),
    SEED_THREADS: String(sizing.seedThreads),
    TORCH_THREADS: String(sizing.torchThreads),
    // torch (OpenMP/MKL) reads these too: the budget holds even where set_num_threads is not enough.
    OMP_NUM_THREADS: String(sizing.torchThreads),
    MKL_NUM_THREADS: String(sizing.torchThreads),
  };
  const proc = launch(`seed :${port}`, '/usr/bin/python3', [
    '-m', 'gunicorn', '-c', join(BENCH_ROOT, 'bench/baselines/gunicorn.conf.py'), '--bind', `127.0.0.1:${port}`, 'seed_server:app',
  ], { env: cleanEnv(env) });
  const url = `http://127.0.0.1:${port}`;
  try {
    await healthy(url, proc, 120_000);
  } catch (error) {
    await proc.stop('SIGKILL');
    throw error;
  }
  return {
    id: 'seed', url, metricsUrls: [],
    settings: { gunicorn: { workerClass: 'gthread', workers: sizing.seedWorkers, threads: sizing.seedThreads }, torchThreads: sizing.torchThreads, nginx: false, model: options.seedModel },
    components: { seed: { pids: [proc.child.pid!] } },
    stop: () => proc.stop('SIGTERM', 15_000),
  };
}

export async function startSystem(id: Exclude<SystemId, 'ort'>, options: StartOptions): Promise<RunningSystem> {
  switch (id) {
    case 'service': return startService(id, options, true, {});
    case 'baseline': {
      if (options.baselineDir === undefined) throw new Error('the baseline system needs --baseline DIR');
      return startService(id, options, true, {}, join(options.baselineDir, 'dist/server/main.js'));
    }
    case 'service-direct': return startService(id, options, false, {});
    case 'batching-off': return startService(id, options, true, { MAX_BATCH_SIZE: '1' });
    case 'batching-off-direct': return startService(id, options, false, { MAX_BATCH_SIZE: '1' });
    case 'seed': return startSeed(options);
    case 'transformersjs': return startTransformersJs(options);
    case 'noop': return startNoop(options);
  }
}

export const ORT_SCRIPT = join(BENCH_ROOT, 'bench/ort-throughput.ts');

export interface OrtResult {
  tweetsPerSecond: number;
  command: string[];
  /** The script's own JSON output. */
  raw: Record<string, unknown>;
}

/**
 * R_ort: runs bench/ort-throughput.ts (the model engineer's) with the service's threads, parses its JSON.
 * With `batches`, every size in arrival and length order, and R_ort is the best run (its `best`).
 */
export async function runOrt(options: { model: string; dtype?: string | undefined; batch: number; batches?: number[]; threads: number; sessions: number; seconds: number; pauseMs?: number }): Promise<OrtResult> {
  const batchArgs = options.batches !== undefined && options.batches.length > 0 ? ['--batches', options.batches.join(',')] : ['--batch', String(options.batch)];
  const dtypeArgs = options.dtype !== undefined && options.dtype !== '' ? ['--dtype', options.dtype] : [];
  const args = [ORT_SCRIPT, '--model', options.model, ...dtypeArgs, ...batchArgs, '--threads', String(options.threads),
    '--sessions', String(options.sessions), '--seconds', String(options.seconds), ...(options.pauseMs ? ['--pause-ms', String(options.pauseMs)] : [])];
  const proc = launch('ort-throughput', TSX, args, { env: cleanEnv({}) });
  const runs = Math.max(1, (options.batches?.length ?? 1) * 2);
  await waitUntil(() => proc.exitCode() !== undefined, { timeoutMs: ((options.seconds + 5) * runs + 120) * 1000, intervalMs: 250, what: 'bench/ort-throughput.ts to finish' });
  const output = proc.output();
  if (proc.exitCode() !== 0) throw new Error(`bench/ort-throughput.ts exited ${proc.exitCode()}:\n${output.slice(-2000)}`);
  const raw = lastJsonObject(output);
  const tweetsPerSecond = Number(raw?.tweetsPerSecond);
  if (raw === undefined || !Number.isFinite(tweetsPerSecond)) throw new Error(`bench/ort-throughput.ts printed no JSON with tweetsPerSecond:\n${output.slice(-2000)}`);
  return { tweetsPerSecond, command: ['tsx', ...args.map((a) => a.replace(`${BENCH_ROOT}/`, ''))], raw };
}

/** The last top-level JSON object in a process's output (it may print progress lines before it). */
export function lastJsonObject(text: string): Record<string, unknown> | undefined {
  const trimmed = text.trim();
  try {
    const whole = JSON.parse(trimmed) as unknown;
    if (typeof whole === 'object' && whole !== null && !Array.isArray(whole)) return whole as Record<string, unknown>;
  } catch { /* look for the last object */ }
  for (let start = trimmed.lastIndexOf('{'); start >= 0; start = trimmed.lastIndexOf('{', start - 1)) {
    const end = trimmed.lastIndexOf('}');
    try {
      const value = JSON.parse(trimmed.slice(start, end + 1)) as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'tweetsPerSecond' in value) return value;
    } catch { /* keep going left */ }
  }
  return undefined;
}

export { findBinary };
