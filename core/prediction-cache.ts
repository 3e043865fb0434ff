// Cache of predictions for texts asked again (retweets, repeated queries). Keyed by the model's sha256 and
// the sha256 of the exact text: a swapped model never serves another model's answer, and the key takes no
// more memory for a 5,000-character text than for a short one. The text is not normalized: the tokenizer
// is the model's own, and only the exact text is sure to give the same token ids (e.g. RoBERTa's byte-level
// BPE tells "hello" from " hello" and NFC from NFD). An in-process LRU first; optionally Redis behind it,
// shared by every replica.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { ServiceMetrics } from './metrics.js';
import type { Prediction } from './predictor.js';

export interface PredictionCacheOptions {
  size: number;
  redis?: Redis | undefined;
  ttlSeconds: number;
  metrics: ServiceMetrics;
  logger: Logger;
}

const REDIS_PREFIX = 'sentiment:prediction:';

export class PredictionCache {
  readonly #lru: LRUCache<string, Prediction>;
  readonly #redis: Redis | undefined;
  readonly #ttlSeconds: number;
  readonly #metrics: ServiceMetrics;
  readonly #logger: Logger;

  constructor(options: PredictionCacheOptions) {
    this.#lru = new LRUCache({ max: Math.max(1, options.size) });
    this.#redis = options.redis;
    this.#ttlSeconds = options.ttlSeconds;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
  }

  /** Cached predictions by position; undefined where the text is not cached. */
  async lookup(texts: readonly string[], modelSha256: string): Promise<(Prediction | undefined)[]> {
    const keys = texts.map((text) => cacheKey(modelSha256, text));
    const found = keys.map((key) => this.#lru.get(key));
    const missing = found.flatMap((prediction, i) => (prediction === undefined ? [i] : []));
    this.#metrics.cacheLookups.inc({ result: 'hit', source: 'memory' }, texts.length - missing.length);
    if (this.#redis && missing.length > 0) {
      try {
        const values = await this.#redis.mget(missing.map((i) => REDIS_PREFIX + keys[i]!));
        values.forEach((value, j) => {
          if (value === null) return;
          const i = missing[j]!;
          found[i] = JSON.parse(value) as Prediction;
          this.#lru.set(keys[i]!, found[i]!);
        });
      } catch (error) {
        this.#logger.debug({ err: (error as Error).message }, 'redis cache lookup failed; treated as misses');
      }
      const fromRedis = missing.filter((i) => found[i] !== undefined).length;
      this.#metrics.cacheLookups.inc({ result: 'hit', source: 'redis' }, fromRedis);
      this.#metrics.cacheLookups.inc({ result: 'miss', source: 'redis' }, missing.length - fromRedis);
    } else {
      this.#metrics.cacheLookups.inc({ result: 'miss', source: 'memory' }, missing.length);
    }
    return found;
  }

  store(texts: readonly string[], predictions: readonly Prediction[], modelSha256: string): void {
    const keys = texts.map((text) => cacheKey(modelSha256, text));
    keys.forEach((key, i) => this.#lru.set(key, predictions[i]!));
    if (!this.#redis) return;
    const pipeline = this.#redis.pipeline();
    keys.forEach((key, i) => pipeline.set(REDIS_PREFIX + key, JSON.stringify(predictions[i]), 'EX', this.#ttlSeconds));
    pipeline.exec().catch((error: Error) => this.#logger.debug({ err: error.message }, 'redis cache store failed'));
  }

  get size(): number {
    return this.#lru.size;
  }
}

function cacheKey(modelSha256: string, text: string): string {
  return `${modelSha256.slice(0, 16)}:${createHash('sha256').update(text).digest('base64url')}`;
}
