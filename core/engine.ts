// The whole core without a transport, started in a fixed order as Hugging Face TEI does it: read the model
// directory → start the workers (each loads the tokenizer and the session and warms up at the largest
// batch) → the batchers. The HTTP server (server/service.ts) and the command line both start one of these.
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import { ServiceMetrics } from './metrics.js';
import { loadServedModel, type ModelInternals, type ServedModel } from './model.js';
import { ModelReloader } from './model-reloader.js';
import { PredictionCache } from './prediction-cache.js';
import { Predictor } from './predictor.js';
import { connectRedis } from './redis.js';

export interface Engine {
  predictor: Predictor;
  metrics: ServiceMetrics;
  reloader: ModelReloader;
  /** The Redis connection, when REDIS_URL is set (the HTTP rate limit shares it). */
  redis: Redis | undefined;
  /** Finishes every accepted text, stops the workers, disconnects Redis. */
  close(): Promise<void>;
}

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, redact: ['req.headers.authorization', 'req.headers["x-api-key"]'] });
}

export async function startEngine(config: Config, logger: Logger = createLogger(config), internals: ModelInternals = {}): Promise<Engine> {
  const model = await loadServedModel(config, logger, internals);
  const redis = config.redisUrl !== undefined ? connectRedis(config.redisUrl, logger) : undefined;
  let predictor: Predictor | undefined;
  const metrics = new ServiceMetrics({
    depth: () => predictor?.queueDepth ?? 0,
    inFlight: () => predictor?.batchesInFlight ?? 0,
    capacity: () => config.maxQueue,
  });
  const cache = config.cacheSize > 0
    ? new PredictionCache({ size: config.cacheSize, redis: config.cacheRedis ? redis : undefined, ttlSeconds: config.cacheTtlSeconds, metrics, logger })
    : undefined;
  predictor = new Predictor(
    model,
    { maxBatchSize: config.maxBatchSize, maxBatchTokens: config.maxBatchTokens, maxWaitMs: config.maxBatchWaitMs, maxQueue: config.maxQueue },
    { maxTextChars: config.maxTextChars, maxClientBatch: config.maxClientBatch, requestTimeoutMs: config.requestTimeoutMs },
    metrics,
    cache,
  );
  const watchCrashes = (served: ServedModel) => served.pool.onCrash(() => {
    metrics.workerRestarts.inc();
    logger.error('an inference worker died; its batch failed with 503 and a new worker is starting');
  });
  watchCrashes(model);
  metrics.setModel(model.description);
  const reloader = new ModelReloader(predictor, async () => {
    const next = await loadServedModel(config, logger, internals);
    watchCrashes(next);
    return next;
  }, metrics, logger);
  const served = predictor;
  return {
    predictor: served,
    metrics,
    reloader,
    redis,
    async close() {
      await served.close();
      redis?.disconnect();
    },
  };
}
