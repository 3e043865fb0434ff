// Every setting of the service, declared once: its environment variable, its command-line flag where the
// seed had one, its default, how it is checked and what it means. The README's configuration table and
// .env.example are generated from this list (npm run docs) and checked by test/integration/docs.test.ts.
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableCpus } from '../inference/cpus.js';
import { MODEL_DTYPES, type ModelDtype } from '../inference/onnx-files.js';
import { DEVICES, type Device } from '../inference/protocol.js';
import { WARMUP_BUDGET_MS } from '../inference/warmup.js';

/** The project root: above server/, or above dist/server/ once compiled. */
const here = dirname(fileURLToPath(import.meta.url));
export const PROJECT_ROOT = basename(dirname(here)) === 'dist' ? resolve(here, '../..') : resolve(here, '..');

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  modelPath: string;
  host: string;
  port: number;
  device: Device;
  modelDtype: ModelDtype;
  /** Unset on a CPU (with INTRA_OP_THREADS unset too): chosen at start-up from the model (core/worker-sizing.ts). */
  workers: number | undefined;
  /** Unset when WORKERS is: chosen with it. */
  intraOpThreads: number | undefined;
  maxBatchSize: number;
  warmupBudgetMs: number;
  /** undefined on a CPU unless set: chosen after warm-up from the model's measured cost (core/batch-budget.ts). */
  maxBatchTokens: number | undefined;
  maxBatchWaitMs: number;
  /** Unset on a CPU: chosen at start-up from the model's measured cost (core/batch-budget.ts). */
  maxQueue: number | undefined;
  requestTimeoutMs: number;
  maxClientBatch: number;
  maxTextChars: number;
  maxTokens: number | undefined;
  bodyLimit: number;
  logLevel: LogLevel;
  apiKeys: string[];
  adminApiKeys: string[];
  rateLimitMax: number;
  rateLimitWindowMs: number;
  redisUrl: string | undefined;
  cacheSize: number;
  cacheRedis: boolean;
  cacheTtlSeconds: number;
  metricsPort: number | undefined;
  trustProxy: string;
  maxEventLoopDelayMs: number;
  maxHeapUsedBytes: number;
  maxRssBytes: number;
  playground: boolean;
  /** Origins whose pages may call the API from a browser; ['*'] for any, [] for CORS off. */
  corsOrigins: string[];
  compression: boolean;
  explainMaxWords: number;
  shadowModelPath: string | undefined;
  shadowSampleRate: number;
  shadowWorkers: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

interface Setting<K extends keyof Config> {
  key: K;
  env: string;
  /** The command-line flag of the original Flask app, where it had one. */
  flag?: string;
  /** Shown in the docs; a function for defaults that depend on the machine or on other settings. */
  defaultText: string;
  description: string;
  parse(raw: string | undefined, partial: Partial<Config>): Config[K];
}

function integer(env: string, min: number, max: number, fallback: number | ((partial: Partial<Config>) => number)) {
  return (raw: string | undefined, partial: Partial<Config>): number => {
    if (raw === undefined || raw.trim() === '') return typeof fallback === 'function' ? fallback(partial) : fallback;
    const value = Number(raw);
    if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new ConfigError(`${env} must be an integer from ${min} to ${max}, got '${raw}'`);
    }
    return value;
  };
}

/**
 * A setting that a CPU chooses at start-up from the model's cost measured at warm-up when it is not set
 * (undefined here; core/batch-budget.ts chooses it), and that a GPU gives `gpuDefault`.
 */
function measuredOnCpu(env: string, min: number, max: number, gpuDefault: number) {
  const parse = integer(env, min, max, gpuDefault);
  return (raw: string | undefined, partial: Partial<Config>): number | undefined => (
    (raw === undefined || raw.trim() === '') && !isGpu(partial) ? undefined : parse(raw, partial));
}

/** A share in (0, 1]. */
function fraction(env: string, fallback: number) {
  return (raw: string | undefined): number => {
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = Number(raw);
    if (!/^\s*(0|1)?(\.\d+)?\s*$/.test(raw) || !(value > 0 && value <= 1)) throw new ConfigError(`${env} must be a number above 0 and at most 1, got '${raw}'`);
    return value;
  };
}

function oneOf<T extends string>(env: string, values: readonly T[], fallback: T) {
  return (raw: string | undefined): T => {
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = raw.trim().toLowerCase() as T;
    if (!values.includes(value)) throw new ConfigError(`${env} must be one of ${values.join(', ')}, got '${raw}'`);
    return value;
  };
}

function boolean(env: string, fallback: boolean) {
  return (raw: string | undefined): boolean => {
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    throw new ConfigError(`${env} must be 1 or 0 (true or false), got '${raw}'`);
  };
}

/** A comma- or newline-separated list; empty entries are dropped. */
function list(raw: string | undefined): string[] {
  return (raw ?? '').split(/[\n,]/).map((item) => item.trim()).filter((item) => item !== '' && !item.startsWith('#'));
}

/**
 * CORS_ORIGINS: `*`, or origins exactly as a browser sends them in `Origin` (scheme, host, port; no path, no
 * trailing slash): an origin written otherwise would never match, and CORS would fail in the browser with
 * no word on the server, so it is refused at start-up instead.
 */
function origins(raw: string | undefined): string[] {
  const entries = list(raw);
  if (entries.includes('*')) {
    if (entries.length > 1) throw new ConfigError(`CORS_ORIGINS is either * or a list of origins, not both, got '${raw}'`);
    return ['*'];
  }
  for (const entry of entries) {
    let origin: string | undefined;
    try {
      origin = new URL(entry).origin;
    } catch { /* refused below */ }
    if (origin !== entry || !/^https?:/.test(entry)) {
      throw new ConfigError(`CORS_ORIGINS entries are origins such as https://app.example.com or http://localhost:3000 (no path, no trailing slash), got '${entry}'`);
    }
  }
  return entries;
}

function keysFromFile(env: string, path: string | undefined): string[] {
  if (path === undefined || path.trim() === '') return [];
  try {
    return list(readFileSync(path.trim(), 'utf8'));
  } catch (error) {
    throw new ConfigError(`${env} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} (${path.trim()})`);
  }
}

const isGpu = (partial: Partial<Config>) => partial.device !== undefined && partial.device !== 'cpu';

/**
 * The settings, in the order they are read: later defaults may depend on earlier values (DEVICE first).
 * CPU defaults: one worker per available CPU (cgroup quota included), one ONNX Runtime thread each, so the
 * threads never outnumber the cores. GPU defaults: one worker (one session per GPU), larger batches.
 */
export const SETTINGS = [
  {
    key: 'modelPath', env: 'MODEL_PATH', flag: '--model_path', defaultText: 'models/twitter-sentiment',
    description: 'Model directory (model.onnx at its top or in onnx/, tokenizer.json, config.json), or one of its ONNX files',
    parse: (raw: string | undefined) => resolve(raw?.trim() || resolve(PROJECT_ROOT, 'models/twitter-sentiment')),
  },
  {
    key: 'host', env: 'HOST', flag: '--host', defaultText: '0.0.0.0', description: 'Address to listen on',
    parse: (raw: string | undefined) => raw?.trim() || '0.0.0.0',
  },
  {
    key: 'port', env: 'PORT', flag: '--port', defaultText: '5000', description: 'Port to listen on',
    parse: integer('PORT', 0, 65535, 5000),
  },
  {
    key: 'device', env: 'DEVICE', defaultText: 'cpu', description: 'Execution provider: cpu, webgpu or cuda',
    parse: oneOf('DEVICE', DEVICES, 'cpu'),
  },
  {
    // Read first, so that MODEL_DTYPE (below) can tell whether it was set.
    key: 'modelDtype', env: 'MODEL_PRECISION', defaultText: '(none)',
    description: 'The older name of MODEL_DTYPE, with the same values (MODEL_PRECISION=fp16 is MODEL_DTYPE=fp16)',
    parse: (raw: string | undefined) => (raw === undefined || raw.trim() === '' ? undefined : oneOf('MODEL_PRECISION', MODEL_DTYPES, 'auto')(raw)),
  },
  {
    key: 'modelDtype', env: 'MODEL_DTYPE', defaultText: 'auto',
    description: 'Which ONNX file of MODEL_PATH to serve (at its top or in its onnx/ folder), by transformers.js dtype: fp32 model.onnx, fp16 model_fp16.onnx, q8 model_quantized.onnx (int8, made by `npm run quantize`), int8, uint8, q4, bnb4, q4f16... model_<dtype>.onnx. auto: the dtype of config.json\'s transformers.js_config, else fp32 on a CPU and fp16 on a GPU, else the first file found',
    parse: (raw: string | undefined, partial: Partial<Config>): ModelDtype => {
      const older = partial.modelDtype;
      const value = oneOf('MODEL_DTYPE', MODEL_DTYPES, older ?? 'auto')(raw);
      if (older !== undefined && raw !== undefined && raw.trim() !== '' && value !== older) {
        throw new ConfigError(`MODEL_DTYPE=${value} and MODEL_PRECISION=${older} disagree: MODEL_PRECISION is the older name of MODEL_DTYPE, set one`);
      }
      return value;
    },
  },
  {
    key: 'workers', env: 'WORKERS',
    defaultText: 'cpu, with INTRA_OP_THREADS unset too: chosen at start-up from the model\'s cost measured by a worker using every core (a light model: one worker per CPU; a heavy one, a tweet costing 10 ms or more: one worker); else CPUs ÷ INTRA_OP_THREADS; 1 (GPU)',
    description: 'Inference worker threads, each with its own ONNX Runtime session (/api/model says how they were chosen)',
    parse: (raw, partial) => ((raw === undefined || raw.trim() === '') && !isGpu(partial) ? undefined : integer('WORKERS', 1, 256, 1)(raw, partial)),
  },
  {
    key: 'intraOpThreads', env: 'INTRA_OP_THREADS',
    defaultText: 'chosen with WORKERS (a light model: 1; a heavy one: every CPU); CPUs ÷ WORKERS when WORKERS is set, at least 1',
    description: 'ONNX Runtime threads per session',
    parse: (raw, partial) => ((raw === undefined || raw.trim() === '') && partial.workers === undefined
      ? undefined
      : integer('INTRA_OP_THREADS', 1, 256, Math.max(1, Math.floor(availableCpus() / (partial.workers ?? 1))))(raw, partial)),
  },
  {
    key: 'maxBatchSize', env: 'MAX_BATCH_SIZE', defaultText: '128', description: 'Most texts in one batch (1 turns batching off)',
    // 128 on a CPU too: under load a batch's cost outside ONNX Runtime (its task, its answers, its metrics)
    // is shared by more texts, and a worker cuts its runs from more lengths; a cap of 64 was reached under
    // load and cost throughput and p99 (bench/results). MAX_BATCH_TOKENS still bounds a batch's time, and a
    // lone request never waits for a batch to fill. On a GPU a batch of 128 runs in little more than one.
    parse: integer('MAX_BATCH_SIZE', 1, 4096, 128),
  },
  {
    key: 'warmupBudgetMs', env: 'WARMUP_BUDGET_MS', defaultText: String(WARMUP_BUDGET_MS),
    description: "Wall time each inference worker's warm-up may take: it runs batch shapes up to MAX_BATCH_SIZE × the model's token limit while the next still fits, and measures the model's cost per token (from which a CPU sizes MAX_BATCH_TOKENS and MAX_QUEUE). Less starts sooner and leaves the largest shapes' first run to the first requests that need them",
    parse: integer('WARMUP_BUDGET_MS', 0, 600_000, WARMUP_BUDGET_MS),
  },
  {
    key: 'maxBatchTokens', env: 'MAX_BATCH_TOKENS',
    defaultText: 'cpu: as many as the model runs in about 500 ms, from its cost per token measured at warm-up (64 to 16384; 16384 for the shipped model); 65536 (GPU)',
    description: 'Most padded tokens in one batch (texts × longest padded length). The CPU default keeps one batch of a heavy model (RoBERTa-base) from holding the queue for seconds',
    parse: measuredOnCpu('MAX_BATCH_TOKENS', 1, 16_777_216, 65_536),
  },
  {
    key: 'maxBatchWaitMs', env: 'MAX_BATCH_WAIT_MS', defaultText: '5 (cpu); 2 (GPU)',
    description: 'While every worker is busy, longest a text waits for its batch to fill',
    parse: integer('MAX_BATCH_WAIT_MS', 0, 60_000, (partial) => (isGpu(partial) ? 2 : 5)),
  },
  {
    key: 'maxQueue', env: 'MAX_QUEUE',
    defaultText: 'cpu: as many texts as the workers run in half of REQUEST_TIMEOUT_MS at the cost per token measured at warm-up (MAX_CLIENT_BATCH to 2048; 2048 for the shipped model); 2048 (GPU)',
    description: 'Most texts waiting; beyond it requests get 503 with Retry-After. Whatever it is, a request that the texts already waiting would keep past its deadline (at the drain rate measured from finished batches) also gets 503 at once',
    parse: measuredOnCpu('MAX_QUEUE', 1, 1_000_000, 2048),
  },
  {
    key: 'requestTimeoutMs', env: 'REQUEST_TIMEOUT_MS', defaultText: '10000', description: 'Deadline of a request; a waiting text is dropped with 504 once its deadline is nearer than the measured time of a batch',
    parse: integer('REQUEST_TIMEOUT_MS', 1, 600_000, 10_000),
  },
  {
    key: 'maxClientBatch', env: 'MAX_CLIENT_BATCH', defaultText: '64', description: 'Most texts in one /api/predict/batch call',
    parse: integer('MAX_CLIENT_BATCH', 1, 10_000, 64),
  },
  {
    key: 'maxTextChars', env: 'MAX_TEXT_CHARS', defaultText: '5000', description: 'Longest text accepted, in characters (Unicode code points); longer gets 413',
    parse: integer('MAX_TEXT_CHARS', 1, 1_000_000, 5000),
  },
  {
    key: 'maxTokens', env: 'MAX_TOKENS', defaultText: "the model's limit", description: 'Tokens per text after which it is truncated (at most the model\'s limit)',
    parse: (raw: string | undefined) => (raw === undefined || raw.trim() === '' ? undefined : integer('MAX_TOKENS', 2, 1_000_000, 0)(raw, {})),
  },
  {
    key: 'bodyLimit', env: 'BODY_LIMIT', defaultText: '2097152', description: 'Largest request body, in bytes; larger gets 413',
    parse: integer('BODY_LIMIT', 1024, 1_073_741_824, 2_097_152),
  },
  {
    key: 'logLevel', env: 'LOG_LEVEL', defaultText: 'info', description: `Log level: ${LOG_LEVELS.join(', ')}`,
    parse: oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
  },
  {
    key: 'apiKeys', env: 'API_KEYS', defaultText: '(none: open)',
    description: 'Comma-separated client keys; when set (here or in API_KEYS_FILE), /api/predict* and /api/model need `Authorization: Bearer <key>` or `X-API-Key`. An entry `NAME KEY` names its key: the per-key usage metrics show the name (else the key\'s id), never the key',
    parse: (raw: string | undefined) => list(raw),
  },
  {
    key: 'apiKeys', env: 'API_KEYS_FILE', defaultText: '(none)', description: 'File with one client key per line (`NAME KEY` names it; # comments allowed), added to API_KEYS',
    parse: (raw: string | undefined, partial: Partial<Config>) => [...(partial.apiKeys ?? []), ...keysFromFile('API_KEYS_FILE', raw)],
  },
  {
    key: 'adminApiKeys', env: 'ADMIN_API_KEYS', defaultText: '(none: admin API off)',
    description: 'Comma-separated admin keys (`NAME KEY` names one) for the admin API (/api/admin/reload, /api/admin/shadow); without them it answers 403 (SIGHUP still reloads)',
    parse: (raw: string | undefined) => list(raw),
  },
  {
    key: 'rateLimitMax', env: 'RATE_LIMIT_MAX', defaultText: '0 (off)', description: 'Requests per client (API key, else IP) per window, one budget shared by the prediction and model routes; 0 turns the limit off',
    parse: integer('RATE_LIMIT_MAX', 0, 100_000_000, 0),
  },
  {
    key: 'rateLimitWindowMs', env: 'RATE_LIMIT_WINDOW', defaultText: '60000', description: 'Rate-limit window, ms',
    parse: integer('RATE_LIMIT_WINDOW', 1, 86_400_000, 60_000),
  },
  {
    key: 'redisUrl', env: 'REDIS_URL', defaultText: '(none)', description: 'Redis (redis://host:port/db) shared by all replicas: rate-limit counters, and the cache with CACHE_REDIS=1. Start-up waits up to 2 s for it; while it is unreachable the limit allows and the cache misses, counted in sentiment_redis_failures_total',
    parse: (raw: string | undefined) => {
      if (raw === undefined || raw.trim() === '') return undefined;
      if (!/^rediss?:\/\/[^\s]+$/.test(raw.trim())) throw new ConfigError(`REDIS_URL must be a redis:// or rediss:// URL, got '${raw}'`);
      return raw.trim();
    },
  },
  {
    key: 'cacheSize', env: 'CACHE_SIZE', defaultText: '10000', description: 'Predictions kept in the in-process LRU cache (by exact text and model sha256); 0 turns caching off',
    parse: integer('CACHE_SIZE', 0, 10_000_000, 10_000),
  },
  {
    key: 'cacheRedis', env: 'CACHE_REDIS', defaultText: '0', description: '1 shares cached predictions between replicas through REDIS_URL',
    parse: boolean('CACHE_REDIS', false),
  },
  {
    key: 'cacheTtlSeconds', env: 'CACHE_TTL_SECONDS', defaultText: '3600', description: 'Lifetime of a prediction cached in Redis, s',
    parse: integer('CACHE_TTL_SECONDS', 1, 31_536_000, 3600),
  },
  {
    key: 'metricsPort', env: 'METRICS_PORT', defaultText: '(none: /metrics on PORT)', description: 'Serve /metrics on this port only (keep it off the public port)',
    parse: (raw: string | undefined) => (raw === undefined || raw.trim() === '' ? undefined : integer('METRICS_PORT', 0, 65535, 0)(raw, {})),
  },
  {
    key: 'trustProxy', env: 'TRUST_PROXY', defaultText: 'loopback,uniquelocal',
    description: 'Proxies whose X-Forwarded-For is believed (client IP for rate limits and logs): addresses, CIDRs or loopback/linklocal/uniquelocal; "false" trusts none',
    parse: (raw: string | undefined) => raw?.trim() || 'loopback,uniquelocal',
  },
  {
    key: 'maxEventLoopDelayMs', env: 'MAX_EVENT_LOOP_DELAY_MS', defaultText: '1000', description: 'Answer 503 while the event loop lags more than this (0 = off)',
    parse: integer('MAX_EVENT_LOOP_DELAY_MS', 0, 600_000, 1000),
  },
  {
    key: 'maxHeapUsedBytes', env: 'MAX_HEAP_USED_BYTES', defaultText: '0 (off)', description: 'Answer 503 while the V8 heap uses more than this',
    parse: integer('MAX_HEAP_USED_BYTES', 0, Number.MAX_SAFE_INTEGER, 0),
  },
  {
    key: 'maxRssBytes', env: 'MAX_RSS_BYTES', defaultText: '0 (off)', description: 'Answer 503 while the process resident memory exceeds this',
    parse: integer('MAX_RSS_BYTES', 0, Number.MAX_SAFE_INTEGER, 0),
  },
  {
    key: 'playground', env: 'PLAYGROUND', defaultText: '1', description: 'Serve the playground page at / to browsers (0: / is only the health check)',
    parse: boolean('PLAYGROUND', true),
  },
  {
    key: 'corsOrigins', env: 'CORS_ORIGINS', defaultText: '(none: CORS off)',
    description: 'Comma-separated origins (https://app.example.com) whose pages may call every route from a browser, or * for any; preflights are answered and cached for 2 h, Authorization and Content-Type allowed, the timing, version, request-id and rate-limit headers exposed',
    parse: (raw: string | undefined) => origins(raw),
  },
  {
    key: 'compression', env: 'COMPRESSION', defaultText: '1',
    description: 'Compress responses of 1 KiB or more (gzip or br, as the client accepts) and NDJSON streams chunk by chunk; 0 sends every response as it is',
    parse: boolean('COMPRESSION', true),
  },
  {
    key: 'explainMaxWords', env: 'EXPLAIN_MAX_WORDS', defaultText: '64',
    description: 'Most words of a text that `explain: true` weighs: each word is one more model input in the same call; a longer text asked to be explained gets 413 TOO_MANY_WORDS',
    parse: integer('EXPLAIN_MAX_WORDS', 1, 10_000, 64),
  },
  {
    key: 'shadowModelPath', env: 'SHADOW_MODEL_PATH', defaultText: '(none: no shadow scoring)',
    description: 'A candidate model directory loaded at start-up beside MODEL_PATH, with its own workers, and shown a sample of the live texts off the request path (POST /api/admin/shadow does the same at run time)',
    parse: (raw: string | undefined) => (raw === undefined || raw.trim() === '' ? undefined : resolve(raw.trim())),
  },
  {
    key: 'shadowSampleRate', env: 'SHADOW_SAMPLE_RATE', defaultText: '0.1',
    description: 'Share of the texts the live model computes that the shadow candidate scores too; a text is skipped while the live queue is not empty or the candidate\'s queue is full',
    parse: fraction('SHADOW_SAMPLE_RATE', 0.1),
  },
  {
    key: 'shadowWorkers', env: 'SHADOW_WORKERS', defaultText: '1', description: 'Inference worker threads of the shadow candidate, one ONNX Runtime thread each',
    parse: integer('SHADOW_WORKERS', 1, 256, 1),
  },
] as const satisfies readonly Setting<keyof Config>[];

/**
 * Reads the settings from the environment and the seed's flags (`--model_path`, `--host`, `--port`; flags win).
 * Throws ConfigError with one line naming the setting at the first bad value.
 */
export function loadConfig(env: Env = process.env, argv: readonly string[] = process.argv.slice(2)): Config {
  const flags = parseFlags(argv);
  const partial: Partial<Config> = {};
  for (const setting of SETTINGS as readonly Setting<keyof Config>[]) {
    const raw = (setting.flag !== undefined ? flags.get(setting.flag) : undefined) ?? env[setting.env];
    (partial as Record<string, unknown>)[setting.key] = setting.parse(raw, partial);
  }
  const config = partial as Config;
  if (config.cacheRedis && config.redisUrl === undefined) throw new ConfigError('CACHE_REDIS=1 needs REDIS_URL');
  // A full batch call must fit in the queue, or it could only ever get 503 QUEUE_FULL.
  if (config.maxQueue !== undefined && config.maxQueue < config.maxClientBatch) {
    throw new ConfigError(`MAX_QUEUE (${config.maxQueue}) must be at least MAX_CLIENT_BATCH (${config.maxClientBatch}): a full batch call would never fit in the queue`);
  }
  if (config.metricsPort !== undefined && config.metricsPort !== 0 && config.metricsPort === config.port) {
    throw new ConfigError('METRICS_PORT must differ from PORT');
  }
  return config;
}

/** Settings of earlier versions that no longer do anything, with what replaced them. */
const RETIRED_SETTINGS: Record<string, string> = {
  TOKENIZER_THREADS: 'each inference worker tokenizes its own batches (WORKERS)',
};

/** One warning line for each retired setting that `env` still sets: a start-up log line, not an error. */
export function retiredSettingsIn(env: Env = process.env): string[] {
  return Object.entries(RETIRED_SETTINGS)
    .filter(([name]) => env[name] !== undefined && env[name] !== '')
    .map(([name, instead]) => `${name} is no longer used and is ignored: ${instead}`);
}

function parseFlags(argv: readonly string[]): Map<string, string> {
  const known = new Set<string>(SETTINGS.flatMap((setting) => ('flag' in setting ? [setting.flag] : [])));
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (!known.has(name)) throw new ConfigError(`unknown argument '${arg}' (accepted: ${[...known].join(', ')})`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`${name} needs a value`);
    flags.set(name, value);
  }
  return flags;
}
