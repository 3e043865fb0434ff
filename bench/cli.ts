// npm run bench -- <scenario> [options]: starts what the scenario needs on loopback, drives it with
// autocannon, writes bench/results/<scenario>-<date>.{json,md,svg}. See bench/README.md. The options and
// scenarios are bench/cli-options.ts, the raw ceilings bench/ceilings.ts, one system's runs
// bench/system-runs.ts; this file puts a run together and judges it.
import { relative, resolve } from 'node:path';
import { fileSha256, loadModelFiles } from '../inference/model-files.js';
import type { ModelDtype } from '../inference/onnx-files.js';
import { runBulk } from './bulk.js';
import { measureCeilings } from './ceilings.js';
import { parseCommand, type BenchOptions } from './cli-options.js';
import { cpuSnapshot, cpuUsage } from './cpu.js';
import { cpuPerText, leftCheck } from './cpu-per-text.js';
import { machineInfo } from './machine.js';
import { BENCH_ROOT, FIXTURE_MODEL } from './paths.js';
import { PEER_TARGETS, composedCeiling, computeChecks, singleLatencyCheck, threeStageCeiling, writeResults, type Results, type SystemResult } from './report.js';
import { mergeRounds, roundOrder } from './repeats.js';
import { maxScoreDifference, runSystem, sleep, type Probe } from './system-runs.js';
import { DEFAULT_LIMIT_REQ, SYSTEM_TITLES, findBinary, modelLabels, serviceDtype, unavailable, type RunningSystem, type SystemId } from './systems.js';
import { describeMix, loadTweets } from './tweets.js';

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Cores busy on the machine over `ms`: the benchmark should start on a quiet machine. */
async function machineBusyCores(ms = 2000): Promise<number> {
  const before = cpuSnapshot({});
  await sleep(ms);
  const usage = cpuUsage(before, cpuSnapshot({}));
  return usage.cores.other ?? 0;
}

/** The model's name, and the ONNX file the service serves with its dtype and sha256, read as the service reads them; nulls if unreadable. */
async function modelIdentity(path: string, dtype: string): Promise<{ name: string | null; file: string | null; dtype: string | null; sha256: string | null }> {
  try {
    const files = loadModelFiles(path, { tokenizer: false, dtype: dtype as ModelDtype });
    return { name: files.name, file: relative(files.dir, files.onnxPath), dtype: files.dtype, sha256: await fileSha256(files.onnxPath) };
  } catch {
    return { name: null, file: null, dtype: null, sha256: null };
  }
}

/** The results document before any run: what runs, where, on which machine and data. */
async function startResults(options: BenchOptions, startedAt: Date, tweetCount: number, notes: string[]): Promise<Results> {
  const { model, seedModel, sizing, mix } = options;
  const nginxBinary = (() => { try { return findBinary('nginx'); } catch { return undefined; } })();
  return {
    scenario: options.scenarioName,
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    command: options.command,
    machine: machineInfo(sizing.serviceEnv.DEVICE ?? 'cpu', nginxBinary),
    model: { path: relative(BENCH_ROOT, model) || '.', ...await modelIdentity(model, serviceDtype(sizing)), seedModel: relative(BENCH_ROOT, seedModel) },
    load: {
      mix, mixText: describeMix(mix), tweets: relative(BENCH_ROOT, options.tweetsPath), tweetCount, durationS: options.durationS, warmupS: options.warmupS,
      timeoutS: options.timeoutS, rngSeed: options.rngSeed, ...(options.acceptEncoding !== undefined ? { acceptEncoding: options.acceptEncoding } : {}),
    },
    sizing: { ...sizing, limitReq: DEFAULT_LIMIT_REQ },
    systems: [],
    ceilings: { ort: null, http: null, composed: null },
    checks: [],
    notes,
  };
}

/** A note, a warning line, when the machine was busy before the run: such numbers are not comparable. */
async function quietMachineNote(): Promise<string | undefined> {
  const busy = await machineBusyCores();
  if (busy <= 0.2) return undefined;
  return `The machine was not quiet before the run: ${busy.toFixed(2)} cores busy outside the benchmark (load average ${machineInfo().loadAverageAtStart.join(', ')}). These numbers are not comparable with a quiet machine's.`;
}

/** The ceilings composed from the runs, the scenario's checks, and whether systems serving the same weights agree. */
function judge(results: Results, options: BenchOptions, probes: Map<SystemId, Probe>): void {
  const { connections, heavy, systems, model, scenarioName } = options;
  const { notes } = results;
  const primary = connections.includes(500) ? 500 : connections[connections.length - 1]!;
  const noop = results.systems.find((s) => s.id === 'noop')?.runs.find((r) => r.connections === primary);
  if (noop) results.ceilings.http = { textsPerSecond: noop.textsPerSecond, connections: primary };
  const ort = results.ceilings.ort && 'tweetsPerSecond' in results.ceilings.ort ? results.ceilings.ort.tweetsPerSecond : undefined;
  results.ceilings.composed = composedCeiling(ort, results.ceilings.http?.textsPerSecond);
  const tokCeiling = results.ceilings.tok && 'tweetsPerSecond' in results.ceilings.tok ? results.ceilings.tok.tweetsPerSecond : undefined;
  if (results.ceilings.tok) results.ceilings.composed3 = threeStageCeiling(ort, results.ceilings.http?.textsPerSecond, tokCeiling);
  if (scenarioName !== 'smoke') results.checks = computeChecks(results, primary, heavy ? PEER_TARGETS.heavy : PEER_TARGETS.small);
  const latencyCheck = singleLatencyCheck(results);
  if (latencyCheck) results.checks.push(latencyCheck);
  const left = leftCheck(cpuPerText(results, primary));
  if (left) results.checks.push(left);

  const serviceProbe = probes.get('service') ?? probes.get('service-direct');
  const peers: [SystemId, string][] = [['seed', 'the Flask + PyTorch design (seed)'], ['transformersjs', 'the transformers.js peer']];
  for (const [id, what] of peers) {
    const peerProbe = probes.get(id);
    if (!peerProbe || !serviceProbe) continue;
    const diff = maxScoreDifference(peerProbe, serviceProbe);
    results.checks.push({
      name: `Same weights: ${what} and the service (ONNX Runtime) agree`, target: 'scores within 1e-4 on 20 tweets',
      measured: diff === null ? 'no answer to compare' : `largest score difference ${diff.toExponential(1)}`, met: diff !== null && diff <= 1e-4,
    });
  }
  notes.push(
    `NGINX runs the project's nginx.conf rendered for loopback by deploy/render-local.mjs; its per-client limit (limit_req) is raised to ${DEFAULT_LIMIT_REQ.rate} for the run, because autocannon is one client address playing every user.`,
    'The prediction cache is off (CACHE_SIZE=0) in every replica: 2,000 validation tweets asked again and again would otherwise measure the cache, not the model.',
    'Every 2xx body is checked to be a valid prediction for what was sent (labels of the model, probabilities summing to 1, one prediction per text, in order); "Invalid" counts those that are not.',
    'The Flask + PyTorch baseline (seed) is measured directly (gunicorn on its port, no NGINX), as that design ran; bench/baselines/gunicorn.conf.py explains its sizing.',
    ...(systems.includes('transformersjs') ? ['The transformers.js peer (transformersjs) is bench/transformersjs-server.ts: one pipeline(\'text-classification\') call per request, fp32, from a local layout of the same model (bench/transformersjs-layout.ts), one ONNX Runtime session per replica with the replica\'s cores as intra-op threads, behind the same NGINX; it reports truncated: false for every text.'] : []),
    'Latency percentiles are autocannon\'s over 2xx responses; texts/s counts the texts of valid 2xx answers.',
  );
  if (model === FIXTURE_MODEL || relative(BENCH_ROOT, model).startsWith('test/fixtures')) {
    notes.unshift('The model is a test fixture, not the shipped model: these numbers check the harness and say nothing about the service\'s speed.');
  }
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv);
  if ('exitCode' in parsed) {
    process.stderr.write(parsed.message);
    return parsed.exitCode;
  }
  const { options } = parsed;
  const { scenarioName, model, sizing, connections } = options;
  for (const notice of options.notices) log(notice);
  if (options.bulk !== undefined) {
    const { cores, intraOpThreads } = sizing;
    log(`bench bulk: model ${model}; ${cores} cores, 1 replica × ${Math.max(1, Math.floor(cores / intraOpThreads))} workers × ${intraOpThreads} ORT threads`);
    return runBulk({
      model, sizing, tweets: options.tweetsPath, ...options.bulk,
      connections: connections[0]!, loadSeconds: options.durationS, repeat: options.repeat,
      outDir: options.outDir, tag: options.tag, command: options.command, log,
    });
  }
  const tweets = loadTweets(options.tweetsPath);
  const labels = modelLabels(model.endsWith('.onnx') ? resolve(model, '..') : model);

  let stopping: RunningSystem | undefined;
  process.once('SIGINT', () => {
    log('\ninterrupted: stopping what runs');
    void (stopping?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });

  const startedAt = new Date();
  const notes: string[] = [];
  const busy = await quietMachineNote();
  if (busy !== undefined) {
    notes.push(busy);
    log(`warning: ${busy}`);
  }
  log(`bench ${scenarioName}: ${options.systems.join(', ')} at c=${connections.join(',')}, ${options.warmupS} s warm-up + ${options.durationS} s each; model ${model}`);
  log(`  sizing: ${sizing.cores} cores; ${sizing.replicas} replicas × ${sizing.workers} workers × ${sizing.intraOpThreads} ORT threads behind NGINX; ${describeMix(options.mix)}`);
  const results = await startResults(options, startedAt, tweets.length, notes);

  const probes = new Map<SystemId, Probe>();
  const rounds = new Map<SystemId, SystemResult[]>();
  for (let round = 0; round < options.repeat; round++) {
    if (options.repeat > 1) log(`round ${round + 1} of ${options.repeat}`);
    for (const id of roundOrder(options.systems, round)) {
      const why = unavailable(id, { model, seedModel: options.seedModel });
      if (why !== undefined) {
        if (round > 0) continue;
        log(`- ${id}: skipped (${why})`);
        if (id === 'ort') results.ceilings.ort = { skipped: why };
        else rounds.set(id, [{ id, title: SYSTEM_TITLES[id], runs: [], skipped: why }]);
        continue;
      }
      if (id === 'ort') {
        // The raw ceilings are measured once: a loop with nothing else running varies far less.
        if (round === 0) await measureCeilings(options, results, log);
        continue;
      }
      const run = await runSystem(id, { options, tweets, labels, log, running: (system) => { stopping = system; } });
      rounds.set(id, [...rounds.get(id) ?? [], run.result]);
      if (run.probe !== undefined && !probes.has(id)) probes.set(id, run.probe);
      await sleep(2000);
    }
  }
  for (const id of options.systems) {
    const systemRounds = rounds.get(id);
    if (systemRounds !== undefined) results.systems.push(mergeRounds(systemRounds));
  }

  judge(results, options, probes);
  results.finishedAt = new Date().toISOString();
  const paths = writeResults(results, options.outDir, options.tag);
  log(`results: ${relative(process.cwd(), paths.json)}, ${relative(process.cwd(), paths.md)}, ${relative(process.cwd(), paths.svg)}`);
  for (const check of results.checks) log(`  ${check.met === null ? '–' : check.met ? 'ok ' : 'NO '} ${check.name}: ${check.measured} (target ${check.target})`);

  if (options.scenario.strict) {
    const bad = results.systems.filter((s) => s.skipped?.startsWith('failed to start') === true
      || s.runs.some((r) => r.errors + r.timeouts + r.non2xx + r.invalid > 0 || r.requests === 0));
    if (bad.length > 0) {
      log(`smoke failed: ${bad.map((s) => s.id).join(', ')} answered with errors, non-2xx or invalid bodies (or did not start)`);
      return 1;
    }
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('bench/cli.ts') || process.argv[1]?.endsWith('bench/cli.js')) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (error: unknown) => {
    log(`bench failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  });
}
