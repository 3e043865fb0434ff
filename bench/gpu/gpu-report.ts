// Assembles the device run's step outputs (one JSON file per step in a results folder, written by
// bench/gpu/run-on-device.sh) into gpu-<device>-<date>.json and a markdown table beside it, and checks
// the project's GPU targets: the service at 500 connections reaches ≥ 0.85 × the raw batched ONNX Runtime
// throughput, and ≥ 8 × its own throughput with batching off. A missing or failed step leaves its part
// null and its target "not measured": the report is written whatever happened.
//
//   node js/gpu-report.mjs --results DIR --out DIR
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LoopResult, LoopRun } from './ort-loop.js';
import type { LevelResult, ServiceLoadResult } from './service-load.js';

export interface Environment {
  /** Short name used in the file name, e.g. nvidia-h100, nvidia-h200, cpu-dryrun. */
  deviceName: string;
  /** The GPU as nvidia-smi names it (or the CPU model in a dry run). */
  gpu: string;
  driver?: string | null;
  provider: string;
  dryRun: boolean;
  /** YYYY-MM-DD. */
  date: string;
  git?: string | null;
  node?: string | null;
  onnxruntime?: string | null;
  [key: string]: unknown;
}

export interface Step {
  name: string;
  rc: number;
  seconds: number;
}

export interface Check {
  name: string;
  target: number;
  value: number | null;
  pass: boolean | null;
  detail: string;
}

export interface GpuReport {
  environment: Environment;
  model: Record<string, unknown> | null;
  fp16: Record<string, unknown> | null;
  parity: Record<string, unknown> | null;
  raw: { fp32: LoopResult | null; fp16: LoopResult | null };
  service: { fp16: ServiceLoadResult | null; fp32: ServiceLoadResult | null; batchingOff: ServiceLoadResult | null };
  cudaProbe: Record<string, unknown> | null;
  checks: Check[];
  steps: Step[];
}

export const SERVICE_VS_RAW_TARGET = 0.85;
export const BATCHING_GAIN_TARGET = 8;
export const TARGET_CONNECTIONS = 500;

function readJson<T>(dir: string, file: string): T | null {
  const path = join(dir, file);
  if (!existsSync(path)) return null;
  const text = readFileSync(path, 'utf8').trim();
  if (text === '') return null;
  try {
    // A step's stdout is its JSON, last line (anything printed before it is progress).
    return JSON.parse(text.split('\n').at(-1)!) as T;
  } catch {
    return null;
  }
}

function readSteps(dir: string): Step[] {
  const path = join(dir, 'steps.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((line) => line.trim() !== '').flatMap((line) => {
    try {
      return [JSON.parse(line) as Step];
    } catch {
      return [];
    }
  });
}

export function level(result: ServiceLoadResult | null, connections: number): LevelResult | undefined {
  return result?.levels.find((l) => l.connections === connections);
}

/** The raw loop's run on real tweets (the service's own kind of batches), or its largest fixed batch. */
export function batchedRun(result: LoopResult | null): LoopRun | undefined {
  if (!result) return undefined;
  return result.runs.find((r) => r.kind === 'tweets') ?? [...result.runs].sort((a, b) => b.batch - a.batch)[0];
}

/** Which precision a service run served: its /api/model `file` (model_fp16.onnx → fp16). */
export function servedPrecision(result: ServiceLoadResult | null): 'fp16' | 'fp32' | null {
  const file = result?.model?.file;
  if (typeof file !== 'string') return null;
  return basename(file) === 'model_fp16.onnx' ? 'fp16' : 'fp32';
}

export function computeChecks(report: Pick<GpuReport, 'raw' | 'service'>): Check[] {
  const checks: Check[] = [];
  // Service vs raw ceiling, same precision.
  const candidates: Array<[ServiceLoadResult | null, LoopResult | null]> = [
    [report.service.fp16, servedPrecision(report.service.fp16) === 'fp32' ? report.raw.fp32 : report.raw.fp16],
    [report.service.fp32, report.raw.fp32],
  ];
  const pair = candidates.find(([service, raw]) => level(service, TARGET_CONNECTIONS) && batchedRun(raw));
  if (pair) {
    const served = level(pair[0], TARGET_CONNECTIONS)!;
    const raw = batchedRun(pair[1])!;
    const ratio = served.okPerSecond / raw.seqPerSec;
    checks.push({
      name: `service at ${TARGET_CONNECTIONS} connections ≥ ${SERVICE_VS_RAW_TARGET} × raw batched ONNX Runtime`,
      target: SERVICE_VS_RAW_TARGET,
      value: Number(ratio.toFixed(3)),
      pass: ratio >= SERVICE_VS_RAW_TARGET,
      detail: `${served.okPerSecond.toFixed(1)} req/s (${pair[0]!.label}) vs ${raw.seqPerSec} seq/s raw (${raw.kind}, batch ${raw.batch}, ${basename(pair[1]!.onnx)})`,
    });
  } else {
    checks.push({ name: `service at ${TARGET_CONNECTIONS} connections ≥ ${SERVICE_VS_RAW_TARGET} × raw batched ONNX Runtime`, target: SERVICE_VS_RAW_TARGET, value: null, pass: null, detail: 'not measured' });
  }
  const on = level(report.service.fp16, TARGET_CONNECTIONS) ?? level(report.service.fp32, TARGET_CONNECTIONS);
  const off = level(report.service.batchingOff, TARGET_CONNECTIONS);
  if (on && off && off.okPerSecond > 0) {
    const gain = on.okPerSecond / off.okPerSecond;
    checks.push({
      name: `batching on ≥ ${BATCHING_GAIN_TARGET} × batching off (MAX_BATCH_SIZE=1) at ${TARGET_CONNECTIONS} connections`,
      target: BATCHING_GAIN_TARGET,
      value: Number(gain.toFixed(2)),
      pass: gain >= BATCHING_GAIN_TARGET,
      detail: `${on.okPerSecond.toFixed(1)} vs ${off.okPerSecond.toFixed(1)} req/s`,
    });
  } else {
    checks.push({ name: `batching on ≥ ${BATCHING_GAIN_TARGET} × batching off (MAX_BATCH_SIZE=1) at ${TARGET_CONNECTIONS} connections`, target: BATCHING_GAIN_TARGET, value: null, pass: null, detail: 'not measured' });
  }
  return checks;
}

export function assembleReport(dir: string): GpuReport {
  const environment = readJson<Environment>(dir, 'env.json') ?? {
    deviceName: 'unknown', gpu: 'unknown', provider: 'unknown', dryRun: false, date: new Date().toISOString().slice(0, 10),
  };
  const partial = {
    raw: { fp32: readJson<LoopResult>(dir, 'ort-fp32.json'), fp16: readJson<LoopResult>(dir, 'ort-fp16.json') },
    service: {
      fp16: readJson<ServiceLoadResult>(dir, 'service-fp16.json'),
      fp32: readJson<ServiceLoadResult>(dir, 'service-fp32.json'),
      batchingOff: readJson<ServiceLoadResult>(dir, 'service-batching-off.json'),
    },
  };
  return {
    environment,
    model: readJson(dir, 'model.json'),
    fp16: readJson(dir, 'fp16.json'),
    parity: readJson(dir, 'parity.json'),
    ...partial,
    cudaProbe: readJson(dir, 'cuda-probe.json'),
    checks: computeChecks(partial),
    steps: readSteps(dir),
  };
}

const fmt = (value: unknown, digits = 1): string => (typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '–');

export function renderMarkdown(report: GpuReport): string {
  const env = report.environment;
  const lines: string[] = [];
  lines.push(`# GPU benchmark: ${env.gpu} (${env.deviceName}), ${env.date}`, '');
  if (env.dryRun) lines.push('**Dry run** on the CPU with a tiny model: proves the script end to end; the numbers mean nothing.', '');
  lines.push(`Provider \`${env.provider}\`; driver ${env.driver ?? '–'}; Node ${env.node ?? '–'}; onnxruntime-node ${env.onnxruntime ?? '–'}; commit ${env.git ?? '–'}.`);
  const model = report.model;
  if (model) {
    lines.push(`Model: ${fmt(Number(model.parameters) / 1e6)} M parameters, random weights (seed ${String(model.seed)}), ` +
      `${String(model.implementation)} implementation, ${String(model.exporter)} exporter, torch ${String(model.torch)}, opset ${String(model.opset)}.`);
  }
  const parity = report.parity;
  if (parity) {
    const a = parity.a as { paddingMaxAbsDiff?: number | null } | undefined;
    const b = parity.b as { paddingMaxAbsDiff?: number | null } | undefined;
    lines.push(`fp16 parity on ${String(parity.device)} over ${String(parity.texts)} validation tweets: max |fp16 − fp32| logit ` +
      `${fmt(parity.maxAbsDiff, 4)}, mean ${fmt(parity.meanAbsDiff, 5)}, max softmax difference ${fmt(parity.maxProbDiff, 4)}, ` +
      `top label agrees on ${fmt(Number(parity.labelAgreement) * 100)}%; padding changes logits by at most ` +
      `${fmt(a?.paddingMaxAbsDiff, 6)} (fp32) / ${fmt(b?.paddingMaxAbsDiff, 6)} (fp16).`);
  }
  lines.push('', '## Raw ONNX Runtime (one session, batches back to back)', '');
  lines.push('| precision | input | batch | tokens/row (padded) | real tokens/row | seq/s | ms/batch p50 | ms/batch p99 |');
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [precision, result] of [['fp32', report.raw.fp32], ['fp16', report.raw.fp16]] as const) {
    if (!result) {
      lines.push(`| ${precision} | not measured | | | | | | |`);
      continue;
    }
    for (const run of result.runs) {
      lines.push(`| ${precision} | ${run.kind === 'tweets' ? 'validation tweets' : 'fixed length'} | ${run.batch} | ${fmt(run.seq)} | ${fmt(run.realSeq)} | ${fmt(run.seqPerSec)} | ${fmt(run.batchMs.p50, 2)} | ${fmt(run.batchMs.p99, 2)} |`);
    }
  }
  lines.push('', `## Service (DEVICE=${env.provider}, autocannon, POST /api/predict, one tweet per request)`, '');
  lines.push('| run | model file | connections | ok req/s | p50 ms | p99 ms | non-2xx | errors | mean batch | mean queue wait ms |');
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const result of [report.service.fp16, report.service.fp32, report.service.batchingOff]) {
    if (!result) continue;
    for (const l of result.levels) {
      lines.push(`| ${result.label} | ${typeof result.model?.file === 'string' ? result.model.file : '–'} | ${l.connections} | ${fmt(l.okPerSecond)} | ${fmt(l.latency.p50)} | ${fmt(l.latency.p99)} | ${l.non2xx} | ${l.errors} | ${fmt(l.server.meanBatchSize)} | ${fmt(l.server.meanQueueWaitMs, 2)} |`);
    }
  }
  lines.push('', '## Targets', '', '| target | measured | pass | detail |', '| --- | ---: | --- | --- |');
  for (const check of report.checks) {
    lines.push(`| ${check.name} | ${check.value ?? '–'} | ${check.pass === null ? 'not measured' : check.pass ? 'yes' : 'no'} | ${check.detail} |`);
  }
  if (report.cudaProbe) lines.push('', `DEVICE=cuda probe: ${typeof report.cudaProbe.message === 'string' ? report.cudaProbe.message : JSON.stringify(report.cudaProbe)}`);
  lines.push('', '## Steps', '', '| step | exit | seconds |', '| --- | ---: | ---: |');
  for (const step of report.steps) lines.push(`| ${step.name} | ${step.rc} | ${fmt(step.seconds)} |`);
  return `${lines.join('\n')}\n`;
}

/** gpu-<device>-<date>: the file names of GPU results under bench/results/. */
export function reportStem(env: Pick<Environment, 'deviceName' | 'date'>): string {
  const safe = (text: string) => text.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'unknown';
  return `gpu-${safe(env.deviceName)}-${safe(env.date)}`;
}

export function writeReport(report: GpuReport, outDir: string): { json: string; md: string } {
  mkdirSync(outDir, { recursive: true });
  const stem = reportStem(report.environment);
  const json = join(outDir, `${stem}.json`);
  const md = join(outDir, `${stem}.md`);
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(md, renderMarkdown(report));
  return { json, md };
}

export function main(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { results: { type: 'string' }, out: { type: 'string' } } });
  if (values.results === undefined || values.out === undefined) {
    console.error('usage: report --results DIR --out DIR');
    return 1;
  }
  const report = assembleReport(values.results);
  const files = writeReport(report, values.out);
  process.stdout.write(renderMarkdown(report));
  console.error(`[report] wrote ${files.json} and ${files.md}`);
  return 0;
}

if (/^gpu-report\.(ts|js|mjs)$/.test(basename(process.argv[1] ?? ''))) {
  process.exitCode = main(process.argv.slice(2));
}
