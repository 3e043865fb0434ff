// Worker and thread defaults follow the CPUs a container may use (cgroup quota), not the host's cores.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { availableCpus, cgroupCpuQuota } from '../../inference/cpus.js';
import { chooseSizing, configuredSizing } from '../../core/worker-sizing.js';
import { loadConfig } from '../../core/config.js';

function cgroup(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'cgroup-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  return root;
}

t.test('cgroup v2 cpu.max', async (t) => {
  t.equal(cgroupCpuQuota(cgroup({ 'cpu.max': '150000 100000\n' })), 1.5);
  t.equal(cgroupCpuQuota(cgroup({ 'cpu.max': 'max 100000\n' })), undefined, 'unlimited');
});

t.test('cgroup v1 cfs quota and period', async (t) => {
  t.equal(cgroupCpuQuota(cgroup({ 'cpu/cpu.cfs_quota_us': '200000', 'cpu/cpu.cfs_period_us': '100000' })), 2);
  t.equal(cgroupCpuQuota(cgroup({ 'cpu/cpu.cfs_quota_us': '-1', 'cpu/cpu.cfs_period_us': '100000' })), undefined, 'unlimited');
});

t.test('available CPUs: the quota rounded down, at least 1, never above the host', async (t) => {
  t.equal(availableCpus(cgroup({ 'cpu.max': '50000 100000' })), 1, 'half a CPU still runs one worker');
  t.equal(availableCpus(cgroup({ 'cpu.max': '100000 100000' })), 1);
  t.equal(availableCpus(cgroup({ 'cpu.max': `${1000 * 100000} 100000` })), availableParallelism(), 'capped at the host');
  t.equal(availableCpus(cgroup({})), availableParallelism(), 'no cgroup files: the host count');
});

t.test('defaults: CPU workers × threads never exceed the CPUs; a GPU gets one worker and larger batches', async (t) => {
  const cpu = loadConfig({}, []);
  t.equal(cpu.workers, undefined, 'unset on a CPU: chosen from the model at start-up');
  t.equal(cpu.intraOpThreads, undefined);
  const cpus = availableCpus();
  for (const sizing of [chooseSizing(cpus, 0.0001), chooseSizing(cpus, 2), configuredSizing(1, undefined, cpus)!, configuredSizing(undefined, 1, cpus)!]) {
    t.ok(sizing.workers * sizing.intraOpThreads <= cpus, `${sizing.workers} workers × ${sizing.intraOpThreads} threads: ${sizing.reason}`);
  }
  const setWorkers = loadConfig({ WORKERS: '1' }, []);
  t.equal(setWorkers.intraOpThreads, cpus, 'WORKERS set: INTRA_OP_THREADS = CPUs ÷ WORKERS');
  t.equal(cpu.maxBatchSize, 128, 'a CPU batches up to 128 texts too');
  const gpu = loadConfig({ DEVICE: 'webgpu' }, []);
  t.equal(gpu.workers, 1);
  t.equal(gpu.maxBatchSize, 128);
  t.equal(gpu.maxBatchTokens, 65_536);
  t.equal(gpu.maxBatchWaitMs, 2);
  const overridden = loadConfig({ DEVICE: 'cuda', WORKERS: '2', MAX_BATCH_SIZE: '64' }, []);
  t.equal(overridden.workers, 2, 'overridable');
  t.equal(overridden.maxBatchSize, 64);
});

t.test('settings validation', async (t) => {
  t.throws(() => loadConfig({ CACHE_REDIS: '1' }, []), /CACHE_REDIS=1 needs REDIS_URL/);
  t.throws(() => loadConfig({ REDIS_URL: 'localhost:6379' }, []), /REDIS_URL must be a redis:\/\//);
  t.throws(() => loadConfig({ CACHE_REDIS: 'maybe' }, []), /CACHE_REDIS must be 1 or 0/);
  t.throws(() => loadConfig({ PORT: '5000', METRICS_PORT: '5000' }, []), /METRICS_PORT must differ from PORT/);
  t.throws(() => loadConfig({ API_KEYS_FILE: '/nonexistent/keys' }, []), /API_KEYS_FILE cannot be read: ENOENT/);
  t.same(loadConfig({ API_KEYS: ' a, b ,,c ' }, []).apiKeys, ['a', 'b', 'c']);
  t.equal(loadConfig({ PORT: '' }, []).port, 5000, 'an empty value means the default');
  t.equal(loadConfig({ PORT: '6000' }, ['--port', '7000']).port, 7000, 'the flag wins');
});
