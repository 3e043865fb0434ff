// Cache of predictions for texts asked again (retweets, repeated queries). Keyed by the model's sha256, the
// truncation asked for and the sha256 of the exact text: a swapped model never serves another model's
// answer, and the key takes no more memory for a 5,000-character text than for a short one. The text is not
// normalized: the tokenizer is the model's own, and only the exact text is sure to give the same token ids
// (e.g. RoBERTa's byte-level BPE tells "hello" from " hello" and NFC from NFD). An in-process LRU first;
// optionally Redis behind it, shared by every replica. What is cached is the model's output for the text
// (logits, probabilities, truncation, tokens), from which every protocol builds its own answer.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { ServiceMetrics } from './metrics.js';

export interface CachedOutput {
  logits: Float32Array;
  probabilities: Float32Array;
  truncated: boolean;
  tokens: number;
}

export interface PredictionCacheOptions {
  size: number;
  redis?: Redis | undefined;
  ttlSeconds: number;
  metrics: ServiceMetrics;
  logger: Logger;
}

export interface CacheLookup {
  /** The key of each text, to store its answer under without hashing it again. */
  keys: string[];
  /** Cached outputs by position; undefined where the text is not cached. */
  found: (CachedOutput | undefined)[];
}

const REDIS_PREFIX = 'sentiment:prediction:';

export class PredictionCache {
  readonly #lru: LRUCache<string, CachedOutput>;
  readonly #redis: Redis | undefined;
  readonly #ttlSeconds: number;
  readonly #metrics: ServiceMetrics;
  readonly #logger: Logger;
  /** Outputs to write to Redis, sent together once the current burst of results has settled. */
  #unsent: [string, CachedOutput][] = [];

  constructor(options: PredictionCacheOptions) {
    this.#lru = new LRUCache({ max: Math.max(1, options.size) });
    this.#redis = options.redis;
    this.#ttlSeconds = options.ttlSeconds;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
  }

  /** `variant` separates answers that differ for the same text and model (the truncation asked for). */
  async lookup(texts: readonly string[], modelSha256: string, variant: string): Promise<CacheLookup> {
    const keys = texts.map((text) => cacheKey(modelSha256, variant, text));
    const found = keys.map((key) => this.#lru.get(key));
    const missing: number[] = [];
    for (let i = 0; i < found.length; i++) if (found[i] === undefined) missing.push(i);
    this.#metrics.cacheLookups.inc({ result: 'hit', source: 'memory' }, texts.length - missing.length);
    if (!this.#redis || missing.length === 0) {
      this.#metrics.cacheLookups.inc({ result: 'miss', source: 'memory' }, missing.length);
      return { keys, found };
    }
    try {
      const values = await this.#redis.mget(missing.map((i) => REDIS_PREFIX + keys[i]!));
      values.forEach((value, j) => {
        if (value === null) return;
        const i = missing[j]!;
        found[i] = fromJson(value);
        this.#lru.set(keys[i]!, found[i]!);
      });
    } catch (error) {
      this.#metrics.redisFailures.inc({ use: 'cache' });
      this.#logger.debug({ err: (error as Error).message }, 'redis cache lookup failed; treated as misses');
    }
    const fromRedis = missing.filter((i) => found[i] !== undefined).length;
    this.#metrics.cacheLookups.inc({ result: 'hit', source: 'redis' }, fromRedis);
    this.#metrics.cacheLookups.inc({ result: 'miss', source: 'redis' }, missing.length - fromRedis);
    return { keys, found };
  }

  /** Keeps an output under the key its lookup gave. Redis writes are batched into one pipeline per tick. */
  store(key: string, output: CachedOutput): void {
    this.#lru.set(key, output);
    if (!this.#redis) return;
    if (this.#unsent.length === 0) queueMicrotask(() => this.#sendToRedis());
    this.#unsent.push([key, output]);
  }

  #sendToRedis(): void {
    const entries = this.#unsent;
    this.#unsent = [];
    const pipeline = this.#redis!.pipeline();
    for (const [key, output] of entries) pipeline.set(REDIS_PREFIX + key, toJson(output), 'EX', this.#ttlSeconds);
    pipeline.exec().catch((error: Error) => {
      this.#metrics.redisFailures.inc({ use: 'cache' });
      this.#logger.debug({ err: error.message }, 'redis cache store failed');
    });
  }
}

function cacheKey(modelSha256: string, variant: string, text: string): string {
  return `${modelSha256.slice(0, 16)}:${variant}:${createHash('sha256').update(text).digest('base64url')}`;
}

function toJson(output: CachedOutput): string {
  return JSON.stringify({ l: [...output.logits], p: [...output.probabilities], t: output.truncated, n: output.tokens });
}

function fromJson(value: string): CachedOutput {
  const parsed = JSON.parse(value) as { l: number[]; p: number[]; t: boolean; n: number };
  return { logits: Float32Array.from(parsed.l), probabilities: Float32Array.from(parsed.p), truncated: parsed.t, tokens: parsed.n };
}
