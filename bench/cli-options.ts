// `npm run bench`'s scenarios, its usage text and its command line read into one settled set of options:
// every default resolved here, so that the runs (bench/cli.ts) only read values.
import { mkdirSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { availableCpus } from '../inference/cpus.js';
import { findOnnxFiles } from '../inference/onnx-files.js';
import { DEFAULT_MODEL, FIXTURE_MODEL, RESULTS_DIR } from './paths.js';
import { SYSTEM_IDS, type Sizing, type SystemId } from './systems.js';
import { DEFAULT_TWEETS, TRAIN_TWEETS, parseMix, type Mix } from './tweets.js';

export interface Scenario {
  description: string;
  systems: SystemId[];
  connections: number[];
  durationS: number;
  warmupS: number;
  mix: string;
  /** Exit 1 when the service answers anything but valid 2xx. */
  strict: boolean;
  /** Rounds of every system, in alternating order (runs of the same system vary by 10-40 % on a shared VM). */
  repeat: number;
}

export const SCENARIOS: Record<string, Scenario> = {
  compare: {
    description: 'all the systems at 500 connections',
    systems: ['service', 'service-direct', 'batching-off', 'seed', 'transformersjs', 'noop', 'ort'],
    connections: [500], durationS: 60, warmupS: 5, mix: '0', strict: false, repeat: 2,
  },
  sweep: {
    description: 'req/s and p99 against connections 1 → 1,000, batching on and off',
    systems: ['service', 'batching-off'],
    connections: [1, 10, 50, 100, 250, 500, 750, 1000], durationS: 15, warmupS: 3, mix: '0', strict: false, repeat: 1,
  },
  bulk: {
    description: 'the training tweets scored by the CLI in-process and through POST /api/predict/stream, against C_bulk = 1/(1/R_ort + 1/R_tok); p99 of 50 connections while a stream runs (bench/bulk.ts)',
    systems: ['service-direct', 'ort'],
    connections: [50], durationS: 20, warmupS: 3, mix: '0', strict: false, repeat: 2,
  },
  smoke: {
    description: 'a few seconds of each part, to check that the harness works',
    systems: ['service', 'noop', 'ort'],
    connections: [50], durationS: 4, warmupS: 1, mix: '0.1:2-16', strict: true, repeat: 1,
  },
};

export const USAGE = `usage: npm run bench -- <scenario> [options]

scenarios:
${Object.entries(SCENARIOS).map(([name, s]) => `  ${name.padEnd(8)} ${s.description} (${s.systems.join(', ')}; c=${s.connections.join(',')}; ${s.durationS} s each)`).join('\n')}

options:
  --model DIR            model directory served, its ONNX files at the top or in onnx/ (default models/twitter-sentiment; the fixture: test/fixtures/bert-tiny)
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
  --accept-encoding V    Accept-Encoding of every call, e.g. 'gzip, br' as browsers send it (default: none, so no
                         answer is compressed); single texts only (--mix 0): autocannon cannot check compressed bodies.
                         With --env COMPRESSION=0 and without, it measures what compression costs
  --tweets FILE          JSONL with a "text" per line (default data/tweeteval-sentiment/validation.jsonl)
  --rng-seed N           seed of the tweet order (default 1)
  --out DIR              results directory (default bench/results)   --tag NAME   suffix of the file names
  --no-progress          no progress lines on stderr
  --bulk-lines N         bulk: score only the first N tweets (default: all of --tweets, the training set)
  --fairness-lines N     bulk: lines of the stream that runs during the fairness load (default 200000)
  --tok-seconds S        bulk: seconds of R_tok (default: --ort-seconds)
  --repeat N             rounds of every system, alternating the order (forward, then back); each figure is the
                         median of the rounds, every run is kept (default: compare and bulk 2, the others 1)
  --baseline DIR         also run the service built in the checkout DIR (its dist/server/main.js, npm run build
                         there first) as system 'baseline', right after 'service', with the same sizing
  --cpu-prof DIR         run the service replicas under node --cpu-prof (profiles in DIR; summarize them with
                         npx tsx bench/profile-summary.ts DIR). Profiling slows the replicas: not for numbers.
  --perf DIR             record the service replicas' threads with Linux perf during each measured window
                         (DIR/<system>-c<connections>.perf.txt; split it with npx tsx bench/perf-attribution.ts).
                         perf counts CPU time only, at 499 samples a second: the run's numbers stay usable.
`;

/**
 * compare's connection counts for a model whose ONNX file is at least HEAVY_MODEL_BYTES (about 25 M fp32
 * parameters): a RoBERTa-base-sized model serves tens of texts a second on a few cores, so 500 connections
 * only show how it sheds; the counts below it show latency and batching where they matter.
 */
const HEAVY_MODEL_BYTES = 100 * 1024 * 1024;
const HEAVY_CONNECTIONS = [1, 8, 32, 128, 500];

/** R_ort's batch sizes: the best of them is the ceiling. */
const ORT_BATCHES = ['1', '8', '32'];

/** The size of the model's ONNX file (its first in either Hugging Face layout, as findOnnxFiles orders them). */
export function onnxBytes(model: string): number {
  try {
    return statSync(model.endsWith('.onnx') ? model : resolve(model, findOnnxFiles(model)[0]?.file ?? 'model.onnx')).size;
  } catch {
    return 0;
  }
}

function list(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : text.split(',').map((s) => s.trim()).filter(Boolean);
}

export function positiveInt(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}, got '${text}'`);
  return value;
}

/** The bulk scenario's own options (bench/bulk.ts). */
export interface BulkSettings {
  lines: number | undefined;
  ortBatch: number;
  ortSeconds: number;
  tokSeconds: number;
  fairnessLines: number;
}

export interface BenchOptions {
  scenarioName: string;
  scenario: Scenario;
  /** `npm run bench -- <the arguments>`, as the results record it. */
  command: string;
  model: string;
  seedModel: string;
  systems: SystemId[];
  /** A RoBERTa-base-sized model: its own connection counts (compare) and its own peer target. */
  heavy: boolean;
  connections: number[];
  durationS: number;
  warmupS: number;
  mix: Mix;
  sizing: Sizing;
  timeoutS: number;
  rngSeed: number;
  tweetsPath: string;
  /** R_ort's batch sizes and seconds a run. */
  ortBatches: number[];
  ortSeconds: number;
  outDir: string;
  tag: string | undefined;
  progress: boolean;
  /** Rounds of every system (--repeat). */
  repeat: number;
  /** Accept-Encoding of every call (--accept-encoding); undefined: none. */
  acceptEncoding: string | undefined;
  /** The /api/predict* calls ask for explanations (--explain). */
  explain: boolean;
  /** The checkout whose built service is the 'baseline' system. */
  baselineDir: string | undefined;
  /** Only for the bulk scenario. */
  bulk: BulkSettings | undefined;
  /** What the options chose by themselves, for the log. */
  notices: string[];
}

/** What the command line asks for: options to run, or an exit code (usage, help, a missing model) and what to print. */
export type ParsedCommand = { options: BenchOptions } | { exitCode: number; message: string };

export function parseCommand(argv: string[]): ParsedCommand {
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
      out: { type: 'string' }, tag: { type: 'string' }, 'cpu-prof': { type: 'string' }, perf: { type: 'string' }, repeat: { type: 'string' }, baseline: { type: 'string' }, 'accept-encoding': { type: 'string' },
      'bulk-lines': { type: 'string' }, 'fairness-lines': { type: 'string' }, 'tok-seconds': { type: 'string' }, 'no-progress': { type: 'boolean' }, explain: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const scenarioName = positionals[0];
  if (values.help || scenarioName === undefined || !(scenarioName in SCENARIOS) || positionals.length > 1) {
    return { exitCode: values.help ? 0 : 2, message: USAGE };
  }
  const scenario = SCENARIOS[scenarioName]!;
  // npm runs the script from the repository root: relative paths are the caller's.
  const fromRoot = (p: string) => (isAbsolute(p) ? p : resolve(process.env.INIT_CWD ?? process.cwd(), p));
  const model = fromRoot(values.model ?? DEFAULT_MODEL);
  if (!model.endsWith('.onnx') && findOnnxFiles(model).length === 0) {
    return { exitCode: 2, message: `model not found: no model.onnx (or onnx/model*.onnx) in ${model}${values.model === undefined ? ` (until the trained model lands, use --model ${relative(process.cwd(), FIXTURE_MODEL)})` : ''}\n` };
  }
  const systems = (list(values.systems) ?? scenario.systems) as SystemId[];
  for (const id of systems) if (!SYSTEM_IDS.includes(id)) throw new Error(`unknown system '${id}' (known: ${SYSTEM_IDS.join(', ')})`);
  const baselineDir = values.baseline === undefined ? undefined : fromRoot(values.baseline);
  if (baselineDir !== undefined && !systems.includes('baseline')) systems.splice(systems.indexOf('service') + 1, 0, 'baseline');
  if (systems.includes('baseline') && baselineDir === undefined) throw new Error('the baseline system needs --baseline DIR');
  const heavy = onnxBytes(model) >= HEAVY_MODEL_BYTES;
  const heavyConnections = heavy && scenarioName === 'compare' && values.connections === undefined;
  const notices: string[] = [];
  if (heavyConnections) notices.push(`a heavy model (${Math.round(onnxBytes(model) / 2 ** 20)} MiB of ONNX): connections ${HEAVY_CONNECTIONS.join(', ')} unless --connections says otherwise`);
  const connections = (list(values.connections) ?? (heavyConnections ? HEAVY_CONNECTIONS.map(String) : scenario.connections.map(String))).map((c) => positiveInt('connections', c, 1));
  const durationS = positiveInt('duration', values.duration, scenario.durationS);
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
    ...(values.perf !== undefined ? { perfDir: fromRoot(values.perf) } : {}),
  };
  if (sizing.cpuProfDir !== undefined) mkdirSync(sizing.cpuProfDir, { recursive: true });
  if (sizing.perfDir !== undefined) mkdirSync(sizing.perfDir, { recursive: true });
  const bulk = scenarioName === 'bulk';
  const mix = parseMix(values.mix ?? scenario.mix);
  const acceptEncoding = values['accept-encoding'];
  // A batch answer is over the compression threshold: its body would come back encoded, unchecked.
  if (acceptEncoding !== undefined && mix.batchShare > 0) throw new Error('--accept-encoding takes single texts only (--mix 0): autocannon cannot check compressed bodies');
  // bulk's R_ort runs as long as its loads, at one batch size; the other scenarios' at most 15 s, at several.
  const bulkOrtSeconds = positiveInt('ort-seconds', values['ort-seconds'], durationS);
  const options: BenchOptions = {
    scenarioName,
    scenario,
    command: `npm run bench -- ${argv.join(' ')}`,
    model,
    seedModel: fromRoot(values['seed-model'] ?? model),
    systems,
    heavy,
    connections,
    durationS,
    warmupS: positiveInt('warmup', values.warmup, scenario.warmupS, 0),
    mix,
    sizing,
    timeoutS: positiveInt('timeout', values.timeout, 10),
    rngSeed: positiveInt('rng-seed', values['rng-seed'], 1, 0),
    tweetsPath: fromRoot(values.tweets ?? (bulk ? TRAIN_TWEETS : DEFAULT_TWEETS)),
    ortBatches: bulk ? [] : (list(values['ort-batch']) ?? ORT_BATCHES).map((b) => positiveInt('ort-batch', b, 1)),
    ortSeconds: positiveInt('ort-seconds', values['ort-seconds'], Math.min(durationS, 15)),
    repeat: positiveInt('repeat', values.repeat, scenario.repeat),
    acceptEncoding,
    explain: values.explain === true,
    baselineDir,
    outDir: fromRoot(values.out ?? RESULTS_DIR),
    tag: values.tag,
    progress: !values['no-progress'],
    bulk: !bulk ? undefined : {
      lines: values['bulk-lines'] === undefined ? undefined : positiveInt('bulk-lines', values['bulk-lines'], 1),
      ortBatch: positiveInt('ort-batch', values['ort-batch'], 32),
      ortSeconds: bulkOrtSeconds,
      tokSeconds: positiveInt('tok-seconds', values['tok-seconds'], bulkOrtSeconds),
      fairnessLines: positiveInt('fairness-lines', values['fairness-lines'], 200_000),
    },
    notices,
  };
  return { options };
}
