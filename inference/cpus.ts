// How many CPUs this process may really use. In a container `os.availableParallelism()` reports the host's
// cores, while the cgroup quota (docker --cpus, Kubernetes limits) may allow far fewer; sizing worker and
// ONNX Runtime thread counts from the host count oversubscribes the quota and throttles every thread.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export function availableCpus(cgroupRoot = '/sys/fs/cgroup'): number {
  const host = availableParallelism();
  const quota = cgroupCpuQuota(cgroupRoot);
  return quota === undefined ? host : Math.max(1, Math.min(host, Math.floor(quota)));
}

/** CPUs allowed by the cgroup (v2 `cpu.max`, else v1 `cpu.cfs_quota_us`), or undefined when unlimited. */
export function cgroupCpuQuota(cgroupRoot = '/sys/fs/cgroup'): number | undefined {
  const v2 = readText(`${cgroupRoot}/cpu.max`);
  if (v2 !== undefined) {
    const [quota, period] = v2.trim().split(/\s+/);
    if (quota === 'max' || quota === undefined || period === undefined) return undefined;
    return ratio(Number(quota), Number(period));
  }
  const quota = readText(`${cgroupRoot}/cpu/cpu.cfs_quota_us`);
  const period = readText(`${cgroupRoot}/cpu/cpu.cfs_period_us`);
  if (quota === undefined || period === undefined) return undefined;
  return ratio(Number(quota), Number(period));
}

function ratio(quota: number, period: number): number | undefined {
  if (!(quota > 0) || !(period > 0)) return undefined;
  return quota / period;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
