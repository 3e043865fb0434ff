// The machine a run measured: what the results files say the numbers are about.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { availableCpus } from '../inference/cpus.js';
import { BENCH_ROOT } from './paths.js';

export interface MachineInfo {
  cpuModel: string;
  /** Logical CPUs the OS reports, and those this process may use (cgroup quota included). */
  logicalCpus: number;
  availableCpus: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  onnxruntimeNode: string | null;
  autocannon: string | null;
  nginx: string | null;
  /** The service's DEVICE for the run (cpu unless the run says otherwise). */
  device: string;
  /** Load average when the run started: non-zero means the machine was not quiet. */
  loadAverageAtStart: number[];
  git: { commit: string | null; dirty: boolean | null };
}

function packageVersion(name: string): string | null {
  try {
    return (JSON.parse(readFileSync(join(BENCH_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

function run(command: string, args: string[]): string | null {
  try {
    return execFileSync(command, args, { cwd: BENCH_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return null;
  }
}

export function machineInfo(device = 'cpu', nginxBinary?: string): MachineInfo {
  const modelName = (() => {
    try {
      const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
      if (line) return line.slice(line.indexOf(':') + 1).trim();
    } catch { /* not Linux */ }
    return cpus()[0]?.model ?? 'unknown';
  })();
  let nginx: string | null = null;
  if (nginxBinary !== undefined) {
    // `nginx -v` writes "nginx version: nginx/1.22.1" to stderr
    const result = spawnSync(nginxBinary, ['-v'], { encoding: 'utf8' });
    nginx = `${result.stderr ?? ''}${result.stdout ?? ''}`.replace(/^nginx version:\s*/, '').trim() || null;
  }
  const status = run('git', ['--no-optional-locks', 'status', '--porcelain', '--untracked-files=no']);
  return {
    cpuModel: modelName,
    logicalCpus: availableParallelism(),
    availableCpus: availableCpus(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    onnxruntimeNode: packageVersion('onnxruntime-node'),
    autocannon: packageVersion('autocannon'),
    nginx,
    device,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    git: { commit: run('git', ['rev-parse', 'HEAD']), dirty: status === null ? null : status !== '' },
  };
}
