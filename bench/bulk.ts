// `npm run bench -- bulk`: bulk scoring of the training tweets (45,615) by the command line, in-process and
// through a replica's POST /api/predict/stream, against the composed ceiling of the same run
// C_bulk = 1 / (1/R_ort + 1/R_tok) (ONNX Runtime alone, bench/ort-throughput.ts, and the tokenizer alone,
// bench/tokenizer-throughput.ts, on the same cores; every text goes through both). Targets: ≥ 0.95 × C_bulk
// in-process, ≥ 0.9 × C_bulk through the stream. The replica gets one unmeasured stream of the input first
// (a service is long-running: the other scenarios warm every system up before measuring), then each mode
// runs --repeat times (default 2), the order alternating, and each figure is the median of its rounds: one
// run lasts a few seconds, and a run on this shared VM varies by several per cent. Then fairness: 50
// connections of POST /api/predict alone and while a stream of --fairness-lines lines runs on the same
// replica, p99 of each.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runLoad, type LoadStats } from './load.js';
import { median, middleRun, roundOrder } from './repeats.js';
import { machineInfo } from './machine.js';
import { BENCH_ROOT } from './paths.js';
import { runOrt, startSystem, type Sizing } from './systems.js';
import { tokenizerThroughput } from './tokenizer-throughput.js';
import { SINGLE_ONLY, loadTweets } from './tweets.js';

const CLI = join(BENCH_ROOT, 'dist/cli/main.js');

export interface BulkOptions {
  model: string;
  sizing: Sizing;
  /** Tweets scored (JSONL with "text"); --bulk-lines N keeps the first N (tiny runs that check the harness). */
  tweets: string;
  lines: number | undefined;
  ortBatch: number;
  ortSeconds: number;
  tokSeconds: number;
  /** Rounds of each mode, the order alternating. */
  repeat: number;
  connections: number;
  loadSeconds: number;
  fairnessLines: number;
  outDir: string;
  tag: string | undefined;
  command: string;
  log: (line: string) => void;
}

interface ScoreRun { texts: number; seconds: number; textsPerSecond: number; exitCode: number | string; stderr: string }
/** One mode's figure: the run of the median throughput (of an even count, the lower middle one) with the median texts/s, and every round. */
export interface ScoreRuns extends ScoreRun { rounds: ScoreRun[] }

export const BULK_MODES = ['in-process', 'stream'] as const;
export type BulkMode = typeof BULK_MODES[number];

export function medianScoreRun(rounds: readonly ScoreRun[]): ScoreRuns {
  return { ...middleRun(rounds), textsPerSecond: median(rounds.map((run) => run.textsPerSecond)), rounds: [...rounds] };
}

/** The CLI as a user runs it; its summary line gives texts and texts/s (engine start-up not counted). */
async function runCli(args: string[], env: Record<string, string>): Promise<ScoreRun> {
  const child = spawn(process.execPath, [CLI, 'score', ...args], { cwd: BENCH_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const [code, signal] = await once(child, 'exit') as [number | null, string | null];
  const match = /([\d,]+) texts in ([\d.]+) s \(([\d,]+) texts\/s\)/.exec(stderr);
  const number = (text: string | undefined) => Number((text ?? 'NaN').replace(/,/g, ''));
  return { texts: number(match?.[1]), seconds: number(match?.[2]), textsPerSecond: number(match?.[3]), exitCode: code ?? signal ?? -1, stderr: stderr.slice(-2000) };
}

async function writeLines(path: string, texts: readonly string[], count: number): Promise<void> {
  const file = createWriteStream(path);
  for (let i = 0; i < count; i++) {
    if (!file.write(`${JSON.stringify({ text: texts[i % texts.length] })}\n`)) await once(file, 'drain');
  }
  file.end();
  await once(file, 'finish');
}

export async function runBulk(options: BulkOptions): Promise<number> {
  const { sizing, log } = options;
  const startedAt = new Date();
  const work = mkdtempSync(join(tmpdir(), 'bench-bulk-'));
  try {
    const all = loadTweets(options.tweets);
    const texts = options.lines === undefined ? all : all.slice(0, options.lines);
    const input = join(work, 'tweets.jsonl');
    await writeLines(input, texts, texts.length);
    const workers = Math.max(1, Math.floor(sizing.cores / sizing.intraOpThreads));
    const env = {
      MODEL_PATH: options.model, WORKERS: String(workers), INTRA_OP_THREADS: String(sizing.intraOpThreads),
      CACHE_SIZE: '0', LOG_LEVEL: 'warn', ...sizing.serviceEnv,
    };

    log(`- R_ort: batch ${options.ortBatch}, ${workers} sessions × ${sizing.intraOpThreads} threads, ${options.ortSeconds} s`);
    // As in compare: a model bench/ort-throughput.ts cannot feed leaves R_ort unknown.
    let ort: Awaited<ReturnType<typeof runOrt>> | { skipped: string };
    try {
      ort = await runOrt({ model: options.model, batch: options.ortBatch, threads: sizing.intraOpThreads, sessions: workers, seconds: options.ortSeconds });
      log(`  R_ort = ${Math.round(ort.tweetsPerSecond)} tweets/s`);
    } catch (error) {
      ort = { skipped: (error as Error).message.split('\n').slice(0, 2).join(' ') };
      log(`  R_ort failed: ${ort.skipped}`);
    }
    const rOrt = 'tweetsPerSecond' in ort ? ort.tweetsPerSecond : Number.NaN;
    log(`- R_tok: ${sizing.cores} threads, ${options.tokSeconds} s`);
    const tok = await tokenizerThroughput({ model: options.model, threads: sizing.cores, seconds: options.tokSeconds });
    log(`  R_tok = ${Math.round(tok.tweetsPerSecond)} tweets/s`);
    const cBulk = 1 / (1 / rOrt + 1 / tok.tweetsPerSecond);
    log(`  C_bulk = ${Math.round(cBulk)} tweets/s`);

    log('- service-direct: starting a replica');
    const system = await startSystem('service-direct', { model: options.model, seedModel: options.model, sizing });
    const rounds: Record<BulkMode, ScoreRun[]> = { 'in-process': [], stream: [] };
    // In-process, the CLI starts its own engine (the replica idles meanwhile); the stream is its --url mode.
    const score: Record<BulkMode, () => Promise<ScoreRun>> = {
      'in-process': () => runCli([input, '--out', join(work, 'local.jsonl')], env),
      stream: () => runCli([input, '--url', system.url, '--out', join(work, 'remote.jsonl')], {}),
    };
    let alone: LoadStats;
    let shared: LoadStats;
    let streamedDuringLoad = 0;
    let warmup: ScoreRun;
    try {
      log(`- warm-up: one unmeasured stream of the ${texts.length} tweets through the replica`);
      warmup = await score.stream();
      if (warmup.exitCode !== 0) throw new Error(`the warm-up stream failed (exit ${warmup.exitCode}): ${warmup.stderr}`);
      log(`  ${warmup.textsPerSecond} texts/s (the fresh replica's first stream, not a figure)`);
      for (let round = 0; round < options.repeat; round++) {
        for (const mode of roundOrder(BULK_MODES, round)) {
          log(`- round ${round + 1} of ${options.repeat}, ${mode}: ${texts.length} tweets${mode === 'stream' ? ' through POST /api/predict/stream (the CLI\'s --url mode)' : ''}`);
          const run = await score[mode]();
          log(`  ${run.textsPerSecond} texts/s (exit ${run.exitCode})`);
          rounds[mode].push(run);
        }
      }

      const load = { url: system.url, texts: all, mix: SINGLE_ONLY, timeoutS: 10, progress: false, connections: options.connections, durationS: options.loadSeconds };
      log(`- fairness: ${options.connections} connections of POST /api/predict, ${options.loadSeconds} s alone, then with a ${options.fairnessLines}-line stream`);
      await runLoad({ ...load, durationS: Math.min(3, options.loadSeconds), name: 'warm-up' });
      alone = await runLoad({ ...load, name: 'alone' });
      const fairnessInput = join(work, 'fairness.jsonl');
      await writeLines(fairnessInput, all, options.fairnessLines);
      const fairnessOut = join(work, 'fairness-out.jsonl');
      const running = runCli([fairnessInput, '--url', system.url, '--out', fairnessOut, '--quiet'], {});
      await new Promise((r) => setTimeout(r, 1000));
      const before = lineCount(fairnessOut);
      shared = await runLoad({ ...load, name: 'with stream' });
      streamedDuringLoad = lineCount(fairnessOut) - before;
      await running;
    } finally {
      await system.stop();
    }
    log(`  p99 alone ${alone.latency.p99} ms (${Math.round(alone.requestsPerSecond)} req/s); with the stream ${shared.latency.p99} ms (${Math.round(shared.requestsPerSecond)} req/s); stream ${Math.round(streamedDuringLoad / options.loadSeconds)} lines/s meanwhile`);

    const inProcess = medianScoreRun(rounds['in-process']);
    const stream = medianScoreRun(rounds.stream);
    const ratio = (runs: ScoreRuns) => `${(runs.textsPerSecond / cBulk).toFixed(2)} × C_bulk (${Math.round(runs.textsPerSecond)} texts/s${runs.rounds.length > 1 ? `; rounds ${runs.rounds.map((run) => (run.textsPerSecond / cBulk).toFixed(2)).join(', ')}` : ''})`;
    const checks = [
      { name: 'In-process bulk scoring', target: '≥ 0.95 × C_bulk', measured: ratio(inProcess), met: Number.isFinite(cBulk) ? inProcess.textsPerSecond >= 0.95 * cBulk : null },
      { name: 'Bulk scoring through POST /api/predict/stream', target: '≥ 0.9 × C_bulk', measured: ratio(stream), met: Number.isFinite(cBulk) ? stream.textsPerSecond >= 0.9 * cBulk : null },
      { name: `p99 of single calls (${options.connections} connections) while a stream runs`, target: 'reported', measured: `${shared.latency.p99} ms (alone ${alone.latency.p99} ms)`, met: null },
    ];
    const results = {
      scenario: 'bulk', startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), command: options.command,
      machine: machineInfo(sizing.serviceEnv.DEVICE ?? 'cpu'),
      model: { path: relative(BENCH_ROOT, options.model) },
      input: { tweets: relative(BENCH_ROOT, options.tweets), count: texts.length },
      repeat: options.repeat,
      sizing: { ...sizing, workers },
      ceilings: {
        ort: 'skipped' in ort ? ort : { tweetsPerSecond: ort.tweetsPerSecond, batch: options.ortBatch, sessions: workers, threads: sizing.intraOpThreads, seconds: options.ortSeconds, command: ort.command },
        tok, cBulk: Number.isFinite(cBulk) ? cBulk : null,
      },
      inProcess, stream, warmupStream: warmup,
      fairness: { connections: options.connections, seconds: options.loadSeconds, streamLines: options.fairnessLines, alone, withStream: shared, streamLinesPerSecondDuringLoad: streamedDuringLoad / options.loadSeconds },
      checks,
    };
    mkdirSync(options.outDir, { recursive: true });
    const stem = join(options.outDir, `bulk-${results.startedAt.slice(0, 10)}${options.tag ? `-${options.tag}` : ''}`);
    writeFileSync(`${stem}.json`, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(`${stem}.md`, markdown(results, checks));
    log(`results: ${relative(process.cwd(), `${stem}.json`)}, ${relative(process.cwd(), `${stem}.md`)}`);
    for (const check of checks) log(`  ${check.met === null ? '–' : check.met ? 'ok ' : 'NO '} ${check.name}: ${check.measured} (target ${check.target})`);
    return [...inProcess.rounds, ...stream.rounds].every((run) => run.exitCode === 0) ? 0 : 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function lineCount(path: string): number {
  try {
    const data = readFileSync(path);
    let n = 0;
    for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) n++;
    return n;
  } catch {
    return 0;
  }
}

function markdown(results: { startedAt: string; command: string; model: { path: string }; input: { count: number }; ceilings: { ort: { tweetsPerSecond?: number; skipped?: string }; tok: { tweetsPerSecond: number }; cBulk: number | null }; repeat: number; inProcess: ScoreRuns; stream: ScoreRuns; warmupStream: ScoreRun; fairness: { connections: number; alone: LoadStats; withStream: LoadStats; streamLinesPerSecondDuringLoad: number } }, checks: { name: string; target: string; measured: string; met: boolean | null }[]): string {
  const r = Math.round;
  const each = (runs: ScoreRuns) => (runs.rounds.length > 1 ? `, median of ${runs.rounds.length} rounds (${runs.rounds.map((run) => r(run.textsPerSecond)).join(', ')})` : '');
  return [
    `# Bulk scoring, ${results.startedAt.slice(0, 10)}`,
    '',
    `\`${results.command}\`; model \`${results.model.path}\`; ${results.input.count.toLocaleString('en-US')} tweets; after one unmeasured stream, ${results.repeat} round${results.repeat === 1 ? '' : 's'} of each mode, alternating.`,
    '',
    '| Measure | texts/s |',
    '| --- | ---: |',
    `| R_ort: ONNX Runtime alone | ${results.ceilings.ort.tweetsPerSecond === undefined ? `not measured: ${results.ceilings.ort.skipped}` : r(results.ceilings.ort.tweetsPerSecond)} |`,
    `| R_tok: the tokenizer alone | ${r(results.ceilings.tok.tweetsPerSecond)} |`,
    `| C_bulk = 1 / (1/R_ort + 1/R_tok) | ${results.ceilings.cBulk === null ? '–' : r(results.ceilings.cBulk)} |`,
    `| CLI in-process${each(results.inProcess)} | ${r(results.inProcess.textsPerSecond)} |`,
    `| CLI through POST /api/predict/stream${each(results.stream)} | ${r(results.stream.textsPerSecond)} |`,
    '',
    `The warm-up, the fresh replica's first stream (not measured against a target): ${r(results.warmupStream.textsPerSecond)} texts/s.`,
    '',
    `Fairness: ${results.fairness.connections} connections of POST /api/predict: p99 ${results.fairness.alone.latency.p99} ms alone (${r(results.fairness.alone.requestsPerSecond)} req/s), ${results.fairness.withStream.latency.p99} ms while a stream runs (${r(results.fairness.withStream.requestsPerSecond)} req/s; the stream ${r(results.fairness.streamLinesPerSecondDuringLoad)} lines/s meanwhile).`,
    '',
    '| Check | Target | Measured | Met |',
    '| --- | --- | --- | --- |',
    ...checks.map((c) => `| ${c.name} | ${c.target} | ${c.measured} | ${c.met === null ? '–' : c.met ? 'yes' : 'no'} |`),
    '',
  ].join('\n');
}
