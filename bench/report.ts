// The results of a scenario: the JSON file (everything), a markdown table and an SVG chart next to it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CpuUsage } from './cpu.js';
import { cpuPerText, cpuPerTextMarkdown } from './cpu-per-text.js';
import type { LoadStats } from './load.js';
import type { MachineInfo } from './machine.js';
import type { ServerSideStats } from './scrape.js';
import { barChartSvg, formatNumber, lineChartSvg, type Series } from './svg.js';
import { SYSTEM_SHORT, type SystemId } from './system-ids.js';
import type { Mix } from './tweets.js';

export interface SystemRun extends LoadStats {
  /** Seconds of load before the measured window (not counted). */
  warmupS: number;
  /** From the replicas' /metrics over the measured window; null for systems without them. */
  server: ServerSideStats | null;
  cpu: CpuUsage;
}

export interface SystemResult {
  id: SystemId;
  title: string;
  settings?: Record<string, unknown>;
  /** One run per connection count: with several rounds (--repeat), the median of the rounds' runs. */
  runs: SystemRun[];
  /** With several rounds: each round's runs, in round order. */
  rounds?: SystemRun[][];
  /** Why the system was not measured. */
  skipped?: string;
}

export interface OrtCeiling {
  tweetsPerSecond: number;
  /** The model folder and the service's dtype setting it ran (absent in results older than MODEL_DTYPE). */
  model?: string;
  dtype?: string;
  /** The batch size of the best run (with `batches`: the best over those sizes and both groupings). */
  batch: number;
  batches?: number[];
  grouping?: string;
  /** Padded ÷ real tokens of the best run. */
  paddingRatio?: number;
  threads: number;
  sessions: number;
  seconds: number;
  command: string[];
  raw: Record<string, unknown>;
}

export interface TokCeiling {
  tweetsPerSecond: number;
  threads: number;
  seconds: number;
  tokensPerTweet: number;
}

export interface SingleInference {
  /** Latency of one session.run of one tweet (validation tweets in file order), ms. */
  p50Ms: number;
  p99Ms: number;
  threads: number;
  seconds: number;
  command: string[];
  /**
   * The same with a pause before every run, as a worker idles between lone requests at 1 connection: what
   * one run costs at that pace, for reference.
   */
  paused?: { pauseMs: number; p50Ms: number; p99Ms: number; command: string[] } | { skipped: string };
}

export interface Check {
  name: string;
  target: string;
  measured: string;
  /** null: could not be computed (a system was not measured). */
  met: boolean | null;
}

export interface Results {
  scenario: string;
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: MachineInfo;
  /** file and dtype: the ONNX file the service serves (older results lack them). */
  model: { path: string; name: string | null; sha256: string | null; file?: string | null; dtype?: string | null; seedModel: string };
  load: { mix: Mix; mixText: string; tweets: string; tweetCount: number; durationS: number; warmupS: number; timeoutS: number; rngSeed: number; acceptEncoding?: string };
  sizing: Record<string, unknown>;
  systems: SystemResult[];
  ceilings: {
    ort: OrtCeiling | { skipped: string } | null;
    /** R_http: the no-op system's texts/s at `connections`. */
    http: { textsPerSecond: number; connections: number } | null;
    /** C = 1 / (1/R_ort + 1/R_http), texts/s. */
    composed: number | null;
    /** R_tok: the service's tokenizer alone (bench/tokenizer-throughput.ts), one thread per core. */
    tok?: TokCeiling | { skipped: string } | null;
    /** C3 = 1 / (1/R_ort + 1/R_http + 1/R_tok): every text is also tokenized, on the same cores. */
    composed3?: number | null;
    /** One raw ONNX Runtime inference of one text (batch 1, one session): the floor of latency at 1 connection. */
    single?: SingleInference | { skipped: string } | null;
  };
  checks: Check[];
  notes: string[];
}

export function composedCeiling(ort: number | undefined, http: number | undefined): number | null {
  if (!(ort! > 0) || !(http! > 0)) return null;
  return 1 / (1 / ort! + 1 / http!);
}

/** C3 = 1 / (1/R_ort + 1/R_http + 1/R_tok): the ceiling when tokenizing also takes its share of the cores. */
export function threeStageCeiling(ort: number | undefined, http: number | undefined, tok: number | undefined): number | null {
  const c = composedCeiling(ort, http);
  if (c === null || !(tok! > 0)) return null;
  return 1 / (1 / c + 1 / tok!);
}

/** What the service may add at p50 to one raw inference of a text, at 1 connection, ms. */
export const SINGLE_LATENCY_BUDGET_MS = 0.5;

/**
 * The latency target at 1 connection: the service's p50 within SINGLE_LATENCY_BUDGET_MS of one raw inference
 * of a text, i.e. a lone request waits for no batch window and pays only its hand-offs and HTTP. At 1
 * connection the load is timed to the microsecond (bench/sequential-load.ts).
 */
export function singleLatencyCheck(results: Pick<Results, 'systems' | 'ceilings'>): Check | undefined {
  const run = runAt(results.systems.find((s) => s.id === 'service'), 1) ?? runAt(results.systems.find((s) => s.id === 'service-direct'), 1);
  const single = results.ceilings.single;
  if (!run || !single || !('p50Ms' in single)) return undefined;
  const over = run.latency.p50 - single.p50Ms;
  const worker = run.server?.meanInferenceMs;
  return {
    name: 'Latency at 1 connection vs one raw inference of one text (ONNX Runtime alone, batch 1)',
    target: `p50 ≤ raw p50 + ${SINGLE_LATENCY_BUDGET_MS} ms`,
    measured: `p50 ${run.latency.p50.toFixed(3)} ms vs raw ${single.p50Ms.toFixed(3)} ms (+${over.toFixed(3)} ms; p99 ${formatNumber(run.latency.p99)} vs ${single.p99Ms.toFixed(2)} ms)`
      + (single.paused !== undefined && 'p50Ms' in single.paused ? `; raw with a ${single.paused.pauseMs} ms pause before each run ${single.paused.p50Ms.toFixed(3)} ms` : '')
      + (worker != null ? `; the worker's own time per text (tokenizing and ONNX Runtime) ${worker.toFixed(3)} ms at the mean` : ''),
    met: over <= SINGLE_LATENCY_BUDGET_MS,
  };
}

const runAt = (system: SystemResult | undefined, connections: number) => system?.runs.find((r) => r.connections === connections);

/**
 * What the service must do against the transformers.js peer: ≥ 2× its texts/s with ≤ ½ its p99 on a small
 * model (the shipped one), where HTTP and hand-offs weigh; ≥ 1.3× with a lower p99 on a heavy one (RoBERTa-base
 * sized), where both spend their time in the same ONNX Runtime.
 */
export const PEER_TARGETS = { small: { ratio: 2, p99Factor: 1 / 2 }, heavy: { ratio: 1.3, p99Factor: 1 } } as const;

/** The issue's targets, at `connections` (500). */
export function computeChecks(results: Pick<Results, 'systems' | 'ceilings'>, connections: number, peerTarget: { ratio: number; p99Factor: number } = PEER_TARGETS.small): Check[] {
  const find = (id: SystemId) => results.systems.find((s) => s.id === id);
  const service = runAt(find('service'), connections);
  const off = runAt(find('batching-off'), connections);
  const seed = runAt(find('seed'), connections);
  const checks: Check[] = [];
  const x = (v: number) => `${v.toFixed(2)}×`;
  if (service) {
    const clean = service.errors === 0 && service.timeouts === 0 && service.non2xx === 0 && service.invalid === 0;
    checks.push({
      name: `${connections} connections through NGINX: no failures`,
      target: '0 errors, 0 timeouts, 0 non-2xx, 0 invalid bodies',
      measured: `${service.errors} errors, ${service.timeouts} timeouts, ${service.non2xx} non-2xx, ${service.invalid} invalid (${service.requests.toLocaleString('en-US')} requests in ${service.durationS} s)`,
      met: clean,
    });
  }
  const ratio = (name: string, a: SystemRun | undefined, b: SystemRun | undefined, target: number, p99Factor: number) => {
    if (!a || !b || !(b.textsPerSecond > 0)) {
      checks.push({ name, target: `≥ ${target}×`, measured: 'not measured', met: null });
      return;
    }
    const r = a.textsPerSecond / b.textsPerSecond;
    const p99ok = a.latency.p99 <= b.latency.p99 * p99Factor;
    const p99Target = p99Factor === 1 ? 'lower p99' : `p99 ≤ 1/${Math.round(1 / p99Factor)} of it`;
    checks.push({
      name,
      target: `≥ ${target}× texts/s, ${p99Target}`,
      measured: `${x(r)} (${formatNumber(a.textsPerSecond)} vs ${formatNumber(b.textsPerSecond)} texts/s); p99 ${formatNumber(a.latency.p99)} vs ${formatNumber(b.latency.p99)} ms`,
      met: r >= target && (p99Factor === 1 ? a.latency.p99 < b.latency.p99 : p99ok),
    });
  };
  ratio('Batching on vs off (both through NGINX)', service, off, 1.6, 1);
  ratio('Service vs the Flask + PyTorch design it replaces (seed)', service, seed, 5, 1 / 3);
  const peer = runAt(find('transformersjs'), connections);
  if (peer) ratio('Service vs the transformers.js peer (both through NGINX, same cores)', service, peer, peerTarget.ratio, peerTarget.p99Factor);
  const c = results.ceilings.composed;
  if (service && c !== null) {
    const r = service.textsPerSecond / c;
    checks.push({ name: 'Service vs the composed ceiling C', target: '≥ 0.85 × C', measured: `${r.toFixed(2)} × C (${formatNumber(service.textsPerSecond)} vs C = ${formatNumber(c)} texts/s)`, met: r >= 0.85 });
  } else {
    checks.push({ name: 'Service vs the composed ceiling C', target: '≥ 0.85 × C', measured: 'not measured', met: null });
  }
  return checks;
}

const ms = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : formatNumber(v));

function cpuText(cpu: CpuUsage): string {
  return Object.entries(cpu.cores).map(([name, cores]) => `${name} ${cores.toFixed(2)}`).join(', ');
}

/** CPU milliseconds each component spent per text answered (other excluded). */
export function cpuMsPerText(run: Pick<SystemRun, 'cpu' | 'textsPerSecond'>): Record<string, number> {
  const out: Record<string, number> = {};
  if (!(run.textsPerSecond > 0)) return out;
  for (const [name, cores] of Object.entries(run.cpu.cores)) {
    if (name !== 'other') out[name] = Math.round((cores * 1000 / run.textsPerSecond) * 1000) / 1000;
  }
  return out;
}

export function markdown(results: Results, svgFile: string): string {
  const m = results.machine;
  const lines: string[] = [];
  lines.push(`# Benchmark \`${results.scenario}\` — ${results.startedAt.slice(0, 10)}`, '');
  lines.push(`Command: \`${results.command}\``, '');
  lines.push('## Machine', '');
  lines.push(`- CPU: ${m.cpuModel}, ${m.logicalCpus} logical CPUs (${m.availableCpus} available to the run), ${m.memoryGiB} GiB`);
  lines.push(`- Node ${m.node}, onnxruntime-node ${m.onnxruntimeNode ?? '?'}, autocannon ${m.autocannon ?? '?'}, ${m.nginx ?? 'nginx ?'}; device ${m.device}; kernel ${m.kernel}`);
  lines.push(`- Load average at start: ${m.loadAverageAtStart.join(', ')}; commit ${m.git.commit?.slice(0, 12) ?? '?'}${m.git.dirty ? ' (with uncommitted changes)' : ''}`);
  const served = results.model.file ? `\`${results.model.file}\` (${results.model.dtype}), ` : '';
  lines.push(`- Model: ${results.model.name ?? '?'} (\`${results.model.path}\`, ${served}sha256 ${results.model.sha256?.slice(0, 12) ?? '?'})`);
  lines.push(`- Load: autocannon from the same machine, ${results.load.mixText}, ${results.load.tweetCount.toLocaleString('en-US')} validation tweets in random order (seed ${results.load.rngSeed}); ${results.load.warmupS} s warm-up, then ${results.load.durationS} s measured; timeout ${results.load.timeoutS} s${results.load.acceptEncoding !== undefined ? `; Accept-Encoding: ${results.load.acceptEncoding}` : ''}`);
  lines.push('');
  lines.push('## Results', '');
  lines.push('| System | Conn. | Duration s | Requests | req/s | texts/s | p50 ms | p90 ms | p99 ms | max ms | Errors | Timeouts | Non-2xx | Invalid | Mean batch | Mean queue wait ms |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const system of results.systems) {
    if (system.id === 'ort') continue;
    if (system.skipped) {
      lines.push(`| ${system.title} | – | – | – | – | – | – | – | – | – | – | – | – | – | – | not run: ${system.skipped} |`);
      continue;
    }
    for (const run of system.runs) {
      lines.push(`| ${system.title} | ${run.connections} | ${run.durationS} | ${run.requests.toLocaleString('en-US')} | ${formatNumber(run.requestsPerSecond)} | ${formatNumber(run.textsPerSecond)} | ${ms(run.latency.p50)} | ${ms(run.latency.p90)} | ${ms(run.latency.p99)} | ${ms(run.latency.max)} | ${run.errors} | ${run.timeouts} | ${run.non2xx} | ${run.invalid} | ${ms(run.server?.meanBatchSize)} | ${ms(run.server?.meanQueueWaitMs)} |`);
    }
  }
  lines.push('');
  lines.push('## Ceilings', '');
  const ort = results.ceilings.ort;
  if (ort && 'tweetsPerSecond' in ort) {
    const best = ort.batches !== undefined ? `best of batch ${ort.batches.join(', ')} in arrival and length order: batch ${ort.batch}, ${ort.grouping} order, padding ratio ${ort.paddingRatio}` : `batch ${ort.batch}`;
    lines.push(`- R_ort (ONNX Runtime alone, ${best}, ${ort.sessions} sessions × ${ort.threads} threads, ${ort.seconds} s): **${formatNumber(ort.tweetsPerSecond)} tweets/s** (≈ ${((ort.sessions * ort.threads * 1000) / ort.tweetsPerSecond).toFixed(3)} CPU ms per tweet, its threads busy throughout)`);
  } else {
    lines.push(`- R_ort: not measured${ort && 'skipped' in ort ? ` (${ort.skipped})` : ''}`);
  }
  const http = results.ceilings.http;
  lines.push(http ? `- R_http (no-op Fastify through the same NGINX and replicas, ${http.connections} connections): **${formatNumber(http.textsPerSecond)} texts/s**` : '- R_http: not measured');
  lines.push(results.ceilings.composed !== null ? `- C = 1 / (1/R_ort + 1/R_http) = **${formatNumber(results.ceilings.composed)} texts/s**` : '- C: not computed (needs R_ort and R_http)');
  const tok = results.ceilings.tok;
  if (tok && 'tweetsPerSecond' in tok) {
    lines.push(`- R_tok (the service's tokenizer alone, ${tok.threads} threads, ${tok.seconds.toFixed(0)} s): **${formatNumber(tok.tweetsPerSecond)} tweets/s** (${((tok.threads * 1000) / tok.tweetsPerSecond).toFixed(4)} CPU ms per tweet)`);
  } else if (tok) {
    lines.push(`- R_tok: not measured (${tok.skipped})`);
  }
  const c3 = results.ceilings.composed3;
  if (c3 != null) {
    const service = results.systems.find((s) => s.id === 'service')?.runs.find((r) => r.connections === 500) ?? results.systems.find((s) => s.id === 'service')?.runs.at(-1);
    const c = results.ceilings.composed;
    lines.push(`- C3 = 1 / (1/R_ort + 1/R_http + 1/R_tok) = **${formatNumber(c3)} texts/s**${service ? `; the service (c=${service.connections}) is at ${(service.textsPerSecond / c3).toFixed(2)} × C3${c ? ` and ${(service.textsPerSecond / c).toFixed(2)} × C` : ''}` : ''}`);
  }
  const single = results.ceilings.single;
  if (single && 'p50Ms' in single) {
    lines.push(`- One raw inference of one text (ONNX Runtime alone, batch 1, 1 session × ${single.threads} threads, ${single.seconds} s): p50 **${single.p50Ms.toFixed(2)} ms**, p99 ${single.p99Ms.toFixed(2)} ms`);
    const { paused } = single;
    if (paused !== undefined) {
      lines.push('p50Ms' in paused
        ? `- The same with a ${paused.pauseMs} ms pause before each run (a worker's pace at 1 connection; for reference, the target is against the line above): p50 ${paused.p50Ms.toFixed(2)} ms, p99 ${paused.p99Ms.toFixed(2)} ms`
        : `- The same with a pause before each run: not measured (${paused.skipped})`);
    }
  } else if (single) {
    lines.push(`- One raw inference of one text: not measured (${single.skipped})`);
  }
  lines.push('');
  if (results.checks.length > 0) {
    lines.push('## Targets', '');
    lines.push('| Check | Target | Measured | Met |', '|---|---|---|:---:|');
    for (const check of results.checks) lines.push(`| ${check.name} | ${check.target} | ${check.measured} | ${check.met === null ? '–' : check.met ? 'yes' : '**no**'} |`);
    lines.push('');
  }
  lines.push('## Where the CPU went', '');
  lines.push('Average cores busy during each measured window (load = autocannon, other = anything else on the machine; it should be ~0), and the CPU milliseconds each component spent per text answered.', '');
  lines.push('| System | Conn. | Cores used | CPU ms per text | Padding (padded ÷ real tokens) | Mean inference ms per batch | Texts per tokenizing task | Texts per ONNX Runtime run |', '|---|---:|---|---|---:|---:|---:|---:|');
  for (const system of results.systems) {
    for (const run of system.runs) {
      lines.push(`| ${system.title} | ${run.connections} | ${cpuText(run.cpu)} (machine ${(run.cpu.machineBusy * 100).toFixed(0)}% busy) | ${Object.entries(cpuMsPerText(run)).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')} | ${ms(run.server?.paddingRatio)} | ${ms(run.server?.meanInferenceMs)} | ${ms(run.server?.meanTextsPerTokenizeTask)} | ${ms(run.server?.meanTextsPerRun)} |`);
    }
  }
  lines.push('');
  const primary = results.systems.some((s) => s.runs.some((r) => r.connections === 500)) ? 500 : results.systems.flatMap((s) => s.runs.map((r) => r.connections)).at(-1);
  if (primary !== undefined) lines.push(...cpuPerTextMarkdown(cpuPerText(results, primary), primary));
  const repeated = results.systems.filter((s) => s.rounds !== undefined);
  if (repeated.length > 0) {
    lines.push('## Every round', '', `Each figure above is the median of ${repeated[0]!.rounds!.length} rounds (the order of the systems alternating); texts/s and p99 of every run:`, '');
    lines.push('| System | Conn. | texts/s by round | p99 ms by round |', '|---|---:|---|---|');
    for (const system of repeated) {
      system.runs.forEach((run, i) => {
        const runs = system.rounds!.map((round) => round[i]).filter((r): r is SystemRun => r !== undefined);
        lines.push(`| ${system.title} | ${run.connections} | ${runs.map((r) => formatNumber(r.textsPerSecond)).join(', ')} | ${runs.map((r) => ms(r.latency.p99)).join(', ')} |`);
      });
    }
    lines.push('');
  }
  const problems = results.systems.flatMap((s) => s.runs.flatMap((r) => r.problems.map((p) => `${s.id} c=${r.connections}: ${p}`)));
  if (problems.length > 0) {
    lines.push('## Failed or invalid answers (first few)', '', ...problems.slice(0, 20).map((p) => `- \`${p.replace(/`/g, "'")}\``), '');
  }
  if (results.notes.length > 0) lines.push('## Notes', '', ...results.notes.map((n) => `- ${n}`), '');
  lines.push(`![chart](${svgFile})`, '');
  return lines.join('\n');
}

export function chart(results: Results): string {
  const measured = results.systems.filter((s) => !s.skipped && s.runs.length > 0 && s.id !== 'ort');
  const connections = new Set(measured.flatMap((s) => s.runs.map((r) => r.connections)));
  const footnote = `${results.machine.cpuModel}, ${results.machine.logicalCpus} CPUs; model ${results.model.name ?? '?'}; ${results.load.mixText}`;
  if (connections.size > 1) {
    const series = (value: (run: SystemRun) => number | null): Series[] => measured.map((s) => ({
      name: SYSTEM_SHORT[s.id], points: s.runs.map((r) => ({ x: r.connections, y: value(r) })),
    }));
    return lineChartSvg(`${results.scenario}: throughput and tail latency against connections`, [
      { title: 'Throughput', yLabel: 'texts/s', series: series((r) => r.textsPerSecond) },
      { title: 'p99 latency', yLabel: 'ms', series: series((r) => r.latency.p99) },
    ], footnote);
  }
  const c = [...connections][0] ?? 0;
  const ort = results.ceilings.ort && 'tweetsPerSecond' in results.ceilings.ort ? results.ceilings.ort.tweetsPerSecond : null;
  const bars = measured.map((s) => ({ name: SYSTEM_SHORT[s.id], value: s.runs[0]!.textsPerSecond }));
  if (ort !== null) bars.push({ name: SYSTEM_SHORT.ort, value: ort });
  if (results.ceilings.composed !== null) bars.push({ name: 'C = 1/(1/R_ort + 1/R_http)', value: results.ceilings.composed });
  return barChartSvg(`${results.scenario}: ${c} connections`, [
    { title: 'Throughput (texts/s, higher is better)', unit: 'texts/s', bars },
    { title: 'p99 latency (ms, lower is better)', unit: 'ms', bars: measured.map((s) => ({ name: SYSTEM_SHORT[s.id], value: s.runs[0]!.latency.p99 })) },
  ], footnote);
}

/** Writes <scenario>-<date>[-tag].{json,md,svg} into `dir`; returns the paths. */
export function writeResults(results: Results, dir: string, tag?: string): { json: string; md: string; svg: string } {
  mkdirSync(dir, { recursive: true });
  const stem = `${results.scenario}-${results.startedAt.slice(0, 10)}${tag ? `-${tag}` : ''}`;
  const paths = { json: join(dir, `${stem}.json`), md: join(dir, `${stem}.md`), svg: join(dir, `${stem}.svg`) };
  writeFileSync(paths.json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(paths.svg, chart(results));
  writeFileSync(paths.md, markdown(results, basename(paths.svg)));
  return paths;
}
