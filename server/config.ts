// Every setting of the service, declared once: its environment variable, its command-line flag where the
// seed had one, its default, how it is checked and what it means. The README's configuration table and
// .env.example are checked against this list by test/config.test.ts.
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableCpus } from '../inference/cpus.js';
import { DEVICES, type Device } from '../inference/protocol.js';

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
  workers: number;
  intraOpThreads: number;
  tokenizerThreads: number;
  maxBatchSize: number;
  maxBatchTokens: number;
  maxBatchWaitMs: number;
  maxQueue: number;
  requestTimeoutMs: number;
  maxClientBatch: number;
  maxTextChars: number;
  maxTokens: number | undefined;
  bodyLimit: number;
  logLevel: LogLevel;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

interface Setting<K extends keyof Config> {
  key: K;
  env: string;
  /** The seed's command-line flag, where it had one. */
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

function oneOf<T extends string>(env: string, values: readonly T[], fallback: T) {
  return (raw: string | undefined): T => {
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = raw.trim().toLowerCase() as T;
    if (!values.includes(value)) throw new ConfigError(`${env} must be one of ${values.join(', ')}, got '${raw}'`);
    return value;
  };
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
    description: 'Model directory (model.onnx, tokenizer.json, config.json), or its model.onnx',
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
    key: 'workers', env: 'WORKERS', defaultText: 'CPUs available (cpu); 1 (GPU)',
    description: 'Inference worker threads, each with its own ONNX Runtime session',
    parse: integer('WORKERS', 1, 256, (partial) => (isGpu(partial) ? 1 : availableCpus())),
  },
  {
    key: 'intraOpThreads', env: 'INTRA_OP_THREADS', defaultText: 'CPUs ÷ WORKERS, at least 1',
    description: 'ONNX Runtime threads per session',
    parse: integer('INTRA_OP_THREADS', 1, 256, (partial) => Math.max(1, Math.floor(availableCpus() / (partial.workers ?? 1)))),
  },
  {
    key: 'tokenizerThreads', env: 'TOKENIZER_THREADS', defaultText: 'CPUs ÷ 8, at least 1',
    description: 'Tokenizer worker threads (tokenizing costs a few percent of inference)',
    parse: integer('TOKENIZER_THREADS', 1, 64, () => Math.max(1, Math.floor(availableCpus() / 8))),
  },
  {
    key: 'maxBatchSize', env: 'MAX_BATCH_SIZE', defaultText: '32 (cpu); 128 (GPU)', description: 'Most texts in one batch (1 turns batching off)',
    parse: integer('MAX_BATCH_SIZE', 1, 4096, (partial) => (isGpu(partial) ? 128 : 32)),
  },
  {
    key: 'maxBatchTokens', env: 'MAX_BATCH_TOKENS', defaultText: '16384 (cpu); 65536 (GPU)',
    description: 'Most padded tokens in one batch (texts × longest padded length)',
    parse: integer('MAX_BATCH_TOKENS', 1, 16_777_216, (partial) => (isGpu(partial) ? 65_536 : 16_384)),
  },
  {
    key: 'maxBatchWaitMs', env: 'MAX_BATCH_WAIT_MS', defaultText: '5 (cpu); 2 (GPU)',
    description: 'While every worker is busy, longest a text waits for its batch to fill',
    parse: integer('MAX_BATCH_WAIT_MS', 0, 60_000, (partial) => (isGpu(partial) ? 2 : 5)),
  },
  {
    key: 'maxQueue', env: 'MAX_QUEUE', defaultText: '2048', description: 'Most texts waiting; beyond it requests get 503 with Retry-After',
    parse: integer('MAX_QUEUE', 1, 1_000_000, 2048),
  },
  {
    key: 'requestTimeoutMs', env: 'REQUEST_TIMEOUT_MS', defaultText: '10000', description: 'Deadline of a request; past it, a waiting text is dropped with 504',
    parse: integer('REQUEST_TIMEOUT_MS', 1, 600_000, 10_000),
  },
  {
    key: 'maxClientBatch', env: 'MAX_CLIENT_BATCH', defaultText: '64', description: 'Most texts in one /api/predict/batch call',
    parse: integer('MAX_CLIENT_BATCH', 1, 10_000, 64),
  },
  {
    key: 'maxTextChars', env: 'MAX_TEXT_CHARS', defaultText: '5000', description: 'Longest text accepted, in characters (UTF-16 code units); longer gets 413',
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
  return partial as Config;
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
