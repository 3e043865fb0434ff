// Cache of predictions for texts asked again (retweets, repeated queries). The text is not normalized: the
// tokenizer is the model's own, and only the exact text is sure to give the same token ids (e.g. RoBERTa's
// byte-level BPE tells "hello" from " hello" and NFC from NFD). An in-process LRU first, looked up
// synchronously; optionally Redis behind it, shared by every replica.
//
// The in-process LRU holds the answers of one model: a swapped-in model starts it empty, and an answer
// computed by the previous one is not stored. Its key is the truncation asked for and the text itself, or
// the text's sha256 when the text is longer than a tweet, so that a 5,000-character text takes no more room
// than a tweet. Redis is shared by replicas that may serve different models: its key holds the model's
// sha256 as well, and always the text's sha256.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Truncation } from '../inference/protocol.js';
import type { ServiceMetrics } from './metrics.js';
import { argmax, type TextResult } from './results.js';

export interface PredictionCacheOptions {
  size: number;
  redis?: Redis | undefined;
  ttlSeconds: number;
  metrics: ServiceMetrics;
  logger: Logger;
}

/** Longer texts are keyed by their hash: the length of a tweet. */
const LONGEST_PLAIN_KEY = 280;
const REDIS_PREFIX = 'sentiment:prediction:';

export class PredictionCache {
  readonly #size: number;
  readonly #redis: Redis | undefined;
  readonly #ttlSeconds: number;
  readonly #metrics: ServiceMetrics;
  readonly #logger: Logger;
  #lru: LRUCache<string, TextResult>;
  /** The sha256 of the model whose answers the LRU holds. */
  #model = '';
  /** Outputs to write to Redis, sent together once the current burst of results has settled. */
  #unsent: [string, TextResult][] = [];

  constructor(options: PredictionCacheOptions) {
    this.#size = Math.max(1, options.size);
    this.#lru = new LRUCache({ max: this.#size });
    this.#redis = options.redis;
    this.#ttlSeconds = options.ttlSeconds;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
  }

  /** Whether misses in memory are looked up in Redis (asynchronously) before they are computed. */
  get remote(): boolean {
    return this.#redis !== undefined;
  }

  /**
   * The answers in memory for texts of a call to model `modelSha256`, by position (undefined where none), and
   * how many there are.
   */
  lookup(texts: readonly string[], modelSha256: string, truncation: Truncation): { found: (TextResult | undefined)[]; hits: number } {
    if (modelSha256 !== this.#model) {
      this.#model = modelSha256;
      this.#lru = new LRUCache({ max: this.#size });
    }
    let hits = 0;
    const found = texts.map((text) => {
      const result = this.#lru.get(memoryKey(truncation, text));
      if (result !== undefined) hits++;
      return result;
    });
    this.#metrics.countLookups('hit', 'memory', hits);
    this.#metrics.countLookups('miss', 'memory', texts.length - hits);
    return { found, hits };
  }

  /** Looks up in Redis the texts `found` lacks, fills them in (and into memory), and returns how many it found. */
  async lookupRemote(texts: readonly string[], found: (TextResult | undefined)[], modelSha256: string, truncation: Truncation): Promise<number> {
    const redis = this.#redis;
    const missing: number[] = [];
    for (let i = 0; i < texts.length; i++) if (found[i] === undefined) missing.push(i);
    if (redis === undefined || missing.length === 0) return 0;
    let hits = 0;
    try {
      const values = await redis.mget(missing.map((i) => redisKey(modelSha256, truncation, texts[i]!)));
      values.forEach((value, j) => {
        if (value === null) return;
        const i = missing[j]!;
        const result = fromJson(value);
        found[i] = result;
        if (modelSha256 === this.#model) this.#lru.set(memoryKey(truncation, texts[i]!), result);
        hits++;
      });
    } catch (error) {
      this.#metrics.redisFailures.inc({ use: 'cache' });
      this.#logger.debug({ err: (error as Error).message }, 'redis cache lookup failed; treated as misses');
    }
    this.#metrics.countLookups('hit', 'redis', hits);
    this.#metrics.countLookups('miss', 'redis', missing.length - hits);
    return hits;
  }

  /** Keeps a computed answer. Redis writes are batched into one pipeline per tick. */
  store(text: string, modelSha256: string, truncation: Truncation, result: TextResult): void {
    // An answer of the model swapped out: the memory belongs to the new one now.
    if (modelSha256 === this.#model) this.#lru.set(memoryKey(truncation, text), result);
    if (!this.#redis) return;
    if (this.#unsent.length === 0) queueMicrotask(() => this.#sendToRedis());
    this.#unsent.push([redisKey(modelSha256, truncation, text), result]);
  }

  #sendToRedis(): void {
    const entries = this.#unsent;
    this.#unsent = [];
    const pipeline = this.#redis!.pipeline();
    for (const [key, result] of entries) pipeline.set(key, toJson(result), 'EX', this.#ttlSeconds);
    pipeline.exec().catch((error: Error) => {
      this.#metrics.redisFailures.inc({ use: 'cache' });
      this.#logger.debug({ err: error.message }, 'redis cache store failed');
    });
  }
}

function textHash(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

function memoryKey(truncation: Truncation, text: string): string {
  // A plain key starts with the truncation's initial letter, a hashed one with '#': the two never meet.
  return text.length <= LONGEST_PLAIN_KEY ? truncation[0] + text : `#${truncation}:${textHash(text)}`;
}

function redisKey(modelSha256: string, truncation: Truncation, text: string): string {
  return `${REDIS_PREFIX}${modelSha256.slice(0, 16)}:${truncation}:${textHash(text)}`;
}

// `p` holds the scores: the name entries written by earlier versions (all softmax heads) already have.
function toJson(result: TextResult): string {
  return JSON.stringify({ l: [...result.logits], p: [...result.scores], t: result.truncated });
}

function fromJson(value: string): TextResult {
  const parsed = JSON.parse(value) as { l: number[]; p: number[]; t: boolean };
  const scores = Float32Array.from(parsed.p);
  return { labelIndex: argmax(scores), scores, logits: Float32Array.from(parsed.l), truncated: parsed.t };
}
