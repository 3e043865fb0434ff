// npm run bench -- <scenario> [options]: starts what the scenario needs on loopback, drives it with
// autocannon, writes bench/results/<scenario>-<date>.{json,md,svg}. See bench/README.md.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { availableCpus } from '../inference/cpus.js';
import { fileSha256, loadModelFiles } from '../inference/model-files.js';
import { cpuSnapshot, cpuUsage } from './cpu.js';
import { runLoad } from './load.js';
import { machineInfo } from './machine.js';
import { BENCH_ROOT, DEFAULT_MODEL, FIXTURE_MODEL, RESULTS_DIR } from './paths.js';
import { PEER_TARGETS, composedCeiling, computeChecks, singleLatencyCheck, threeStageCeiling, writeResults, type Results, type SystemResult, type SystemRun } from './report.js';
import { scrapeTotals, serverSideStats } from './scrape.js';
import {
  DEFAULT_LIMIT_REQ, SYSTEM_IDS, SYSTEM_TITLES, findBinary, modelLabels, runOrt, startSystem, unavailable,
  type RunningSystem, type Sizing, type SystemId,
} from './systems.js';
import { DEFAULT_TWEETS, describeMix, loadTweets, parseMix, type Mix } from './tweets.js';
import { TRAIN_TWEETS, runBulk } from './bulk.js';
import { tokenizerThroughput } from './tokenizer-throughput.js';

interface Scenario {
  description: string;
  systems: SystemId[];
  connections: number[];
  durationS: number;
  warmupS: number;
  mix: string;
  /** Exit 1 when the service answers anything but valid 2xx. */
  strict: boolean;
}

export const SCENARIOS: Record<string, Scenario> = {
  compare: {
    description: 'all the systems at 500 connections',
    systems: ['service', 'service-direct', 'batching-off', 'seed', 'transformersjs', 'noop', 'ort'],
    connections: [500], durationS: 60, warmupS: 5, mix: '0', strict: false,
  },
  sweep: {
    description: 'req/s and p99 against connections 1 → 1,000, batching on and off',
    systems: ['service', 'batching-off'],
    connections: [1, 10, 50, 100, 250, 500, 750, 1000], durationS: 15, warmupS: 3, mix: '0', strict: false,
  },
  bulk: {
    description: 'the training tweets scored by the CLI in-process and through POST /api/predict/stream, against C_bulk = 1/(1/R_ort + 1/R_tok); p99 of 50 connections while a stream runs (bench/bulk.ts)',
    systems: ['service-direct', 'ort'],
    connections: [50], durationS: 20, warmupS: 3, mix: '0', strict: false,
  },
  smoke: {
    description: 'a few seconds of each part, to check that the harness works',
    systems: ['service', 'noop', 'ort'],
    connections: [50], durationS: 4, warmupS: 1, mix: '0.1:2-16', strict: true,
  },
};

const USAGE = `usage: npm run bench -- <scenario> [options]

scenarios:
${Object.entries(SCENARIOS).map(([name, s]) => `  ${name.padEnd(8)} ${s.description} (${s.systems.join(', ')}; c=${s.connections.join(',')}; ${s.durationS} s each)`).join('\n')}

options:
  --model DIR            model directory served (default models/twitter-sentiment; the fixture: test/fixtures/bert-tiny)
  --seed-model DIR       model directory of the seed baseline, with best_model.pt (default: --model)
  --systems a,b,...      systems to run, from: ${SYSTEM_IDS.join(', ')}
  --connections 1,10,... connection counts (default: the scenario's; compare on a model of 100 MiB or more: 1,8,32,128,500)
  --duration S           measured seconds per run        --warmup S   warm-up seconds before each run
  --mix SHARE[:N|:A-B]   share of /api/predict/batch calls and their size (default: the scenario's; 0 = single texts only)
  --replicas N           api replicas behind NGINX (default 2)
  --workers N            inference workers per replica behind NGINX (default: cores ÷ replicas)
  --intra-op-threads N   ONNX Runtime threads per worker (default 1)
  --cores N              CPU budget of each system (default: the CPUs available)
  --env KEY=VALUE        extra service setting for every replica (repeatable), e.g. --env MAX_BATCH_WAIT_MS=2;
                         --env SHADOW_MODEL_PATH=DIR loads a shadow candidate (its agreement is in the results)
  --explain              the /api/predict* calls ask for explanations (each text costs its words + 1 inputs)
  --seed-workers N --seed-threads N --torch-threads N   gunicorn sizing of the seed (default: cores, 4, 1)
  --ort-batch N[,N...]   batch sizes of R_ort, the best run counts (default 1,8,32, each in arrival and length order)
  --ort-seconds S        seconds of each R_ort run (default: --duration, at most 15)
  --timeout S            autocannon request timeout (default 10)
  --tweets FILE          JSONL with a "text" per line (default ../shared/data/tweeteval-sentiment/validation.jsonl)
  --rng-seed N           seed of the tweet order (default 1)
  --out DIR              results directory (default bench/results)   --tag NAME   suffix of the file names
  --no-progress          no progress lines on stderr
  --bulk-lines N         bulk: score only the first N tweets (default: all of --tweets, the training set)
  --fairness-lines N     bulk: lines of the stream that runs during the fairness load (default 200000)
  --tok-seconds S        bulk: seconds of R_tok (default: --ort-seconds)
  --cpu-prof DIR         run the service replicas under node --cpu-prof (profiles in DIR; summarize them with
                         npx tsx bench/profile-summary.ts DIR). Profiling slows the replicas: not for numbers.
`;

/**
 * compare's connection counts for a model whose ONNX file is at least HEAVY_MODEL_BYTES (about 25 M fp32
 * parameters): a RoBERTa-base-sized model serves tens of texts a second on a few cores, so 500 connections
 * only show how it sheds; the counts below it show latency and batching where they matter.
 */
const HEAVY_MODEL_BYTES = 100 * 1024 * 1024;
const HEAVY_CONNECTIONS = [1, 8, 32, 128, 500];

function onnxBytes(model: string): number {
  try {
    return statSync(model.endsWith('.onnx') ? model : resolve(model, 'model.onnx')).size;
  } catch {
    return 0;
  }
}

/** R_ort's batch sizes: the best of them is the ceiling. */
const ORT_BATCHES = ['1', '8', '32'];

function list(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : text.split(',').map((s) => s.trim()).filter(Boolean);
}

function positiveInt(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}, got '${text}'`);
  return value;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Cores busy on the machine over `ms`: the benchmark should start on a quiet machine. */
async function machineBusyCores(ms = 2000): Promise<number> {
  const before = cpuSnapshot({});
  await sleep(ms);
  const usage = cpuUsage(before, cpuSnapshot({}));
  return usage.cores.other ?? 0;
}

/** The model's name and the sha256 of its ONNX file, read as the service reads them; nulls if unreadable. */
async function modelIdentity(path: string): Promise<{ name: string | null; sha256: string | null }> {
  try {
    const files = loadModelFiles(path, { tokenizer: false });
    return { name: files.name, sha256: await fileSha256(files.onnxPath) };
  } catch {
    return { name: null, sha256: null };
  }
}

/** A few fixed tweets through the system once, to compare the answers of systems that serve the same weights. */
async function probe(url: string, texts: readonly string[]): Promise<(Record<string, number> | null)[]> {
  const out: (Record<string, number> | null)[] = [];
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

function maxScoreDifference(a: (Record<string, number> | null)[], b: (Record<string, number> | null)[]): number | null {
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (!x || !y) return null;
    for (const label of Object.keys(x)) max = Math.max(max, Math.abs(x[label]! - (y[label] ?? Number.NaN)));
  }
  return Number.isFinite(max) ? max : null;
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string' }, 'seed-model': { type: 'string' }, systems: { type: 'string' }, connections: { type: 'string' },
      duration: { type: 'string' }, warmup: { type: 'string' }, mix: { type: 'string' }, replicas: { type: 'string' },
      workers: { type: 'string' }, 'intra-op-threads': { type: 'string' },
      cores: { type: 'string' }, env: { type: 'string', multiple: true }, 'seed-workers': { type: 'string' },
      'seed-threads': { type: 'string' }, 'torch-threads': { type: 'string' }, 'ort-batch': { type: 'string' },
      'ort-seconds': { type: 'string' }, timeout: { type: 'string' }, tweets: { type: 'string' }, 'rng-seed': { type: 'string' },
      out: { type: 'string' }, tag: { type: 'string' }, 'cpu-prof': { type: 'string' },
      'bulk-lines': { type: 'string' }, 'fairness-lines': { type: 'string' }, 'tok-seconds': { type: 'string' }, 'no-progress': { type: 'boolean' }, explain: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const scenarioName = positionals[0];
  if (values.help || scenarioName === undefined || !(scenarioName in SCENARIOS) || positionals.length > 1) {
    process.stderr.write(USAGE);
    return values.help ? 0 : 2;
  }
  const scenario = SCENARIOS[scenarioName]!;
  const fromRoot = (p: string) => (isAbsolute(p) ? p : resolve(process.env.INIT_CWD ?? process.cwd(), p));
  const model = fromRoot(values.model ?? DEFAULT_MODEL);
  if (!existsSync(resolve(model, 'model.onnx')) && !model.endsWith('.onnx')) {
    log(`model not found: ${model}/model.onnx${values.model === undefined ? ` (until the trained model lands, use --model ${relative(process.cwd(), FIXTURE_MODEL)})` : ''}`);
    return 2;
  }
  const seedModel = fromRoot(values['seed-model'] ?? model);
  const systems = (list(values.systems) ?? scenario.systems) as SystemId[];
  for (const id of systems) if (!SYSTEM_IDS.includes(id)) throw new Error(`unknown system '${id}' (known: ${SYSTEM_IDS.join(', ')})`);
  // A heavy model (RoBERTa-base sized) gets its own connection counts and its own target against transformers.js.
  const heavy = onnxBytes(model) >= HEAVY_MODEL_BYTES;
  const heavyConnections = heavy && scenarioName === 'compare' && values.connections === undefined;
  if (heavyConnections) log(`a heavy model (${Math.round(onnxBytes(model) / 2 ** 20)} MiB of ONNX): connections ${HEAVY_CONNECTIONS.join(', ')} unless --connections says otherwise`);
  const connections = (list(values.connections) ?? (heavyConnections ? HEAVY_CONNECTIONS.map(String) : scenario.connections.map(String))).map((c) => positiveInt('connections', c, 1));
  const durationS = positiveInt('duration', values.duration, scenario.durationS);
  const warmupS = positiveInt('warmup', values.warmup, scenario.warmupS, 0);
  const mix: Mix = parseMix(values.mix ?? scenario.mix);
  const cores = positiveInt('cores', values.cores, availableCpus());
  const replicas = positiveInt('replicas', values.replicas, 2);
  const intraOpThreads = positiveInt('intra-op-threads', values['intra-op-threads'], 1);
  const serviceEnv: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--env takes KEY=VALUE, got '${pair}'`);
    serviceEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const sizing: Sizing = {
    cores,
    replicas,
    workers: positiveInt('workers', values.workers, Math.max(1, Math.floor(cores / replicas / intraOpThreads))),
    intraOpThreads,
    serviceEnv,
    seedWorkers: positiveInt('seed-workers', values['seed-workers'], cores),
    seedThreads: positiveInt('seed-threads', values['seed-threads'], 4),
    torchThreads: positiveInt('torch-threads', values['torch-threads'], 1),
    ...(values['cpu-prof'] !== undefined ? { cpuProfDir: fromRoot(values['cpu-prof']) } : {}),
  };
  if (sizing.cpuProfDir !== undefined) mkdirSync(sizing.cpuProfDir, { recursive: true });
  const timeoutS = positiveInt('timeout', values.timeout, 10);
  const rngSeed = positiveInt('rng-seed', values['rng-seed'], 1, 0);
  if (scenarioName === 'bulk') {
    const ortSeconds = positiveInt('ort-seconds', values['ort-seconds'], durationS);
    log(`bench bulk: model ${model}; ${cores} cores, 1 replica × ${Math.max(1, Math.floor(cores / intraOpThreads))} workers × ${intraOpThreads} ORT threads`);
    return runBulk({
      model, sizing, tweets: fromRoot(values.tweets ?? TRAIN_TWEETS),
      lines: values['bulk-lines'] === undefined ? undefined : positiveInt('bulk-lines', values['bulk-lines'], 1),
      ortBatch: positiveInt('ort-batch', values['ort-batch'], 32), ortSeconds,
      tokSeconds: positiveInt('tok-seconds', values['tok-seconds'], ortSeconds),
      connections: connections[0]!, loadSeconds: durationS,
      fairnessLines: positiveInt('fairness-lines', values['fairness-lines'], 200_000),
      outDir: fromRoot(values.out ?? RESULTS_DIR), tag: values.tag, command: `npm run bench -- ${argv.join(' ')}`, log,
    });
  }
  const tweetsPath = fromRoot(values.tweets ?? DEFAULT_TWEETS);
  const tweets = loadTweets(tweetsPath);
  const labels = modelLabels(model.endsWith('.onnx') ? resolve(model, '..') : model);
  const progress = !values['no-progress'];
  const outDir = fromRoot(values.out ?? RESULTS_DIR);

  let stopping: RunningSystem | undefined;
  process.once('SIGINT', () => {
    log('\ninterrupted: stopping what runs');
    void (stopping?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });

  const nginxBinary = (() => { try { return findBinary('nginx'); } catch { return undefined; } })();
  const startedAt = new Date();
  const busy = await machineBusyCores();
  const notes: string[] = [];
  if (busy > 0.2) {
    const line = `The machine was not quiet before the run: ${busy.toFixed(2)} cores busy outside the benchmark (load average ${machineInfo().loadAverageAtStart.join(', ')}). These numbers are not comparable with a quiet machine's.`;
    notes.push(line);
    log(`warning: ${line}`);
  }
  log(`bench ${scenarioName}: ${systems.join(', ')} at c=${connections.join(',')}, ${warmupS} s warm-up + ${durationS} s each; model ${model}`);
  log(`  sizing: ${cores} cores; ${replicas} replicas × ${sizing.workers} workers × ${intraOpThreads} ORT threads behind NGINX; ${describeMix(mix)}`);

  const results: Results = {
    scenario: scenarioName,
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    command: `npm run bench -- ${argv.join(' ')}`,
    machine: machineInfo(serviceEnv.DEVICE ?? 'cpu', nginxBinary),
    model: { path: relative(BENCH_ROOT, model) || '.', ...await modelIdentity(model), seedModel: relative(BENCH_ROOT, seedModel) },
    load: { mix, mixText: describeMix(mix), tweets: relative(BENCH_ROOT, tweetsPath), tweetCount: tweets.length, durationS, warmupS, timeoutS, rngSeed },
    sizing: { ...sizing, limitReq: DEFAULT_LIMIT_REQ },
    systems: [],
    ceilings: { ort: null, http: null, composed: null },
    checks: [],
    notes,
  };

  const probes = new Map<SystemId, (Record<string, number> | null)[]>();
  const probeTexts = tweets.slice(0, 20);
  for (const id of systems) {
    const why = unavailable(id, { model, seedModel });
    if (why !== undefined) {
      log(`- ${id}: skipped (${why})`);
      if (id === 'ort') results.ceilings.ort = { skipped: why };
      else results.systems.push({ id, title: SYSTEM_TITLES[id], runs: [], skipped: why });
      continue;
    }
    if (id === 'ort') {
      // R_ort is the best raw figure over batch sizes (each in arrival and length order): on a heavy model
      // on a CPU, batching pays only when a batch holds texts of similar lengths (issue 13).
      const batches = (list(values['ort-batch']) ?? ORT_BATCHES).map((b) => positiveInt('ort-batch', b, 1));
      const ortOptions = {
        model, batch: batches[0]!, ...(batches.length > 1 ? { batches } : {}), threads: intraOpThreads,
        sessions: sizing.replicas * sizing.workers, seconds: positiveInt('ort-seconds', values['ort-seconds'], Math.min(durationS, 15)),
      };
      log(`- ort: bench/ort-throughput.ts, batch ${batches.join(',')}, ${ortOptions.sessions} sessions × ${ortOptions.threads} threads, ${ortOptions.seconds} s per run`);
      try {
        const ort = await runOrt(ortOptions);
        const best = (ort.raw.best ?? ort.raw) as { batch?: number; grouping?: string; paddingRatio?: number };
        results.ceilings.ort = {
          ...ortOptions, batch: best.batch ?? batches[0]!, grouping: best.grouping, paddingRatio: best.paddingRatio,
          tweetsPerSecond: ort.tweetsPerSecond, command: ort.command, raw: ort.raw,
        };
        log(`  R_ort = ${Math.round(ort.tweetsPerSecond).toLocaleString('en-US')} tweets/s (batch ${best.batch}, ${best.grouping} order, padding ratio ${best.paddingRatio})`);
      } catch (error) {
        results.ceilings.ort = { skipped: (error as Error).message.split('\n')[0]! };
        log(`  failed: ${(error as Error).message}`);
      }
      // R_tok: every text is also tokenized on the same cores (one thread per core, as bulk measures it).
      log(`- R_tok: bench/tokenizer-throughput.ts, ${cores} threads, ${ortOptions.seconds} s`);
      try {
        const tok = await tokenizerThroughput({ model, threads: cores, seconds: ortOptions.seconds, data: tweetsPath });
        results.ceilings.tok = { tweetsPerSecond: tok.tweetsPerSecond, threads: tok.threads, seconds: tok.seconds, tokensPerTweet: tok.tokensPerTweet };
        log(`  R_tok = ${Math.round(tok.tweetsPerSecond).toLocaleString('en-US')} tweets/s`);
      } catch (error) {
        results.ceilings.tok = { skipped: (error as Error).message.split('\n')[0]! };
        log(`  failed: ${(error as Error).message}`);
      }
      if (connections.includes(1)) {
        // The latency floor of a lone request: one text through one session, no queue, no HTTP.
        const single = { ...ortOptions, batch: 1, batches: undefined, sessions: 1, seconds: Math.min(ortOptions.seconds, 10) };
        log(`- one raw inference: bench/ort-throughput.ts, batch 1, 1 session × ${single.threads} threads, ${single.seconds} s`);
        try {
          const ort = await runOrt(single);
          const latency = ort.raw.batchLatencyMs as { p50: number; p99: number };
          results.ceilings.single = { p50Ms: latency.p50, p99Ms: latency.p99, threads: single.threads, seconds: single.seconds, command: ort.command };
          log(`  p50 ${latency.p50} ms, p99 ${latency.p99} ms a call`);
        } catch (error) {
          results.ceilings.single = { skipped: (error as Error).message.split('\n')[0]! };
          log(`  failed: ${(error as Error).message}`);
        }
      }
      continue;
    }
    log(`- ${id}: starting (${SYSTEM_TITLES[id]})`);
    const result: SystemResult = { id, title: SYSTEM_TITLES[id], runs: [] };
    results.systems.push(result);
    let system: RunningSystem;
    try {
      system = await startSystem(id, { model, seedModel, sizing });
    } catch (error) {
      result.skipped = `failed to start: ${(error as Error).message.split('\n')[0]}`;
      log(`  ${result.skipped}\n${(error as Error).message}`);
      continue;
    }
    stopping = system;
    result.settings = system.settings;
    try {
      probes.set(id, await probe(system.url, probeTexts));
      for (const c of connections) {
        const load = { url: system.url, texts: tweets, mix, labels, timeoutS, progress, explain: values.explain === true };
        if (warmupS > 0) await runLoad({ ...load, connections: c, durationS: warmupS, seed: rngSeed + 1000 + c, name: `${id} (warm-up)`, progress: false });
        const before = await scrapeTotals(system.metricsUrls);
        const components = { load: { pids: [process.pid], tree: false }, ...system.components };
        const cpuBefore = cpuSnapshot(components);
        const stats = await runLoad({ ...load, connections: c, durationS, seed: rngSeed, name: id });
        const cpu = cpuUsage(cpuBefore, cpuSnapshot(components));
        const after = await scrapeTotals(system.metricsUrls);
        const run: SystemRun = { ...stats, warmupS, server: system.metricsUrls.length > 0 ? serverSideStats(before, after) : null, cpu };
        result.runs.push(run);
        log(`  c=${c}: ${Math.round(run.requestsPerSecond).toLocaleString('en-US')} req/s, ${Math.round(run.textsPerSecond).toLocaleString('en-US')} texts/s, p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms, errors ${run.errors}, timeouts ${run.timeouts}, non-2xx ${run.non2xx}, invalid ${run.invalid}${run.server?.meanBatchSize != null ? `, mean batch ${run.server.meanBatchSize.toFixed(1)}, queue wait ${run.server.meanQueueWaitMs?.toFixed(2)} ms, ${run.server.meanTextsPerTokenizeTask?.toFixed(1)} texts per tokenizer task` : ''}; cores ${Object.entries(cpu.cores).map(([k, v]) => `${k} ${v}`).join(' ')}`);
        await sleep(1000);
      }
    } finally {
      await system.stop();
      stopping = undefined;
    }
    await sleep(2000);
  }

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
  results.finishedAt = new Date().toISOString();
  const paths = writeResults(results, outDir, values.tag);
  log(`results: ${relative(process.cwd(), paths.json)}, ${relative(process.cwd(), paths.md)}, ${relative(process.cwd(), paths.svg)}`);
  for (const check of results.checks) log(`  ${check.met === null ? '–' : check.met ? 'ok ' : 'NO '} ${check.name}: ${check.measured} (target ${check.target})`);

  if (scenario.strict) {
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
