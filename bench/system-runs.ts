// One system of `npm run bench` under load: started, probed with a few fixed tweets (so that systems serving
// the same weights can be compared), then driven at each connection count with a warm-up before each
// measured run, the server's own metrics and the CPU of every component read around it.
import { join, relative } from 'node:path';
import type { BenchOptions } from './cli-options.js';
import { cpuSnapshot, cpuUsage } from './cpu.js';
import { runLoad } from './load.js';
import { startPerfRecord, type PerfRecording } from './perf-record.js';
import type { SystemResult, SystemRun } from './report.js';
import { scrapeTotals, serverSideStats } from './scrape.js';
import { SYSTEM_TITLES, startSystem, type RunningSystem, type SystemId } from './systems.js';

export type Probe = (Record<string, number> | null)[];

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** A few fixed tweets through the system once, to compare the answers of systems that serve the same weights. */
async function probe(url: string, texts: readonly string[]): Promise<Probe> {
  const out: Probe = [];
  for (const text of texts) {
    try {
      const response = await fetch(`${url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
      out.push(response.ok ? ((await response.json()) as { scores: Record<string, number> }).scores : null);
    } catch {
      out.push(null);
    }
  }
  return out;
}

/** The largest difference between two systems' scores on the probe texts; null when one did not answer. */
export function maxScoreDifference(a: Probe, b: Probe): number | null {
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (!x || !y) return null;
    for (const label of Object.keys(x)) max = Math.max(max, Math.abs(x[label]! - (y[label] ?? Number.NaN)));
  }
  return Number.isFinite(max) ? max : null;
}

/** With --perf, a perf recording of the service replicas' threads (none for systems without them). */
async function recordReplicas(perfDir: string | undefined, system: RunningSystem, name: string, log: (line: string) => void): Promise<PerfRecording | undefined> {
  const replicas = system.components.replicas;
  if (perfDir === undefined || replicas?.threads !== true) return undefined;
  const file = join(perfDir, `${name}.perf.txt`);
  log(`  perf: ${relative(process.cwd(), file)}`);
  return startPerfRecord(replicas.pids, file);
}

export interface SystemRunContext {
  options: BenchOptions;
  tweets: readonly string[];
  /** The model's labels, to check every answer against (undefined: the shape only). */
  labels: readonly string[] | undefined;
  log: (line: string) => void;
  /** Told of the system while it runs, so that an interrupt can stop it. */
  running(system: RunningSystem | undefined): void;
}

/** Runs system `id` at every connection count; returns its result and its probe (undefined when it did not start). */
export async function runSystem(id: Exclude<SystemId, 'ort'>, context: SystemRunContext): Promise<{ result: SystemResult; probe?: Probe }> {
  const { options, tweets, labels, log } = context;
  const { model, seedModel, sizing, mix, timeoutS, warmupS, durationS, rngSeed, progress } = options;
  log(`- ${id}: starting (${SYSTEM_TITLES[id]})`);
  const result: SystemResult = { id, title: SYSTEM_TITLES[id], runs: [] };
  let system: RunningSystem;
  try {
    system = await startSystem(id, { model, seedModel, sizing, baselineDir: options.baselineDir });
  } catch (error) {
    result.skipped = `failed to start: ${(error as Error).message.split('\n')[0]}`;
    log(`  ${result.skipped}\n${(error as Error).message}`);
    return { result };
  }
  context.running(system);
  result.settings = system.settings;
  try {
    const answers = await probe(system.url, tweets.slice(0, 20));
    for (const c of options.connections) {
      const load = { url: system.url, texts: tweets, mix, labels, timeoutS, progress, acceptEncoding: options.acceptEncoding, explain: options.explain };
      if (warmupS > 0) await runLoad({ ...load, connections: c, durationS: warmupS, seed: rngSeed + 1000 + c, name: `${id} (warm-up)`, progress: false });
      const before = await scrapeTotals(system.metricsUrls);
      const components = { load: { pids: [process.pid], tree: false }, ...system.components };
      const perf = await recordReplicas(options.sizing.perfDir, system, `${id}-c${c}`, log);
      const cpuBefore = cpuSnapshot(components);
      const stats = await runLoad({ ...load, connections: c, durationS, seed: rngSeed, name: id });
      const cpu = cpuUsage(cpuBefore, cpuSnapshot(components));
      await perf?.stop();
      const after = await scrapeTotals(system.metricsUrls);
      const run: SystemRun = { ...stats, warmupS, server: system.metricsUrls.length > 0 ? serverSideStats(before, after) : null, cpu };
      result.runs.push(run);
      log(`  c=${c}: ${Math.round(run.requestsPerSecond).toLocaleString('en-US')} req/s, ${Math.round(run.textsPerSecond).toLocaleString('en-US')} texts/s, p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms, errors ${run.errors}, timeouts ${run.timeouts}, non-2xx ${run.non2xx}, invalid ${run.invalid}${run.server?.meanBatchSize != null ? `, mean batch ${run.server.meanBatchSize.toFixed(1)}, queue wait ${run.server.meanQueueWaitMs?.toFixed(2)} ms, ${run.server.meanTextsPerRun?.toFixed(1) ?? '–'} texts per ONNX Runtime run` : ''}; cores ${Object.entries(cpu.cores).map(([k, v]) => `${k} ${v}`).join(' ')}`);
      await sleep(1000);
    }
    return { result, probe: answers };
  } finally {
    await system.stop();
    context.running(undefined);
  }
}
