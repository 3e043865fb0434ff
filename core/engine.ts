// The whole core without a transport, started in a fixed order as Hugging Face TEI does it: read the model
// directory → start the workers (each loads the tokenizer and the session and warms up at the largest
// batch) → the batcher. The HTTP server (server/service.ts) and the command line both start one of these.
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { autoMaxBatchTokens, autoMaxQueue } from './batch-budget.js';
import type { Config } from './config.js';
import { ServiceMetrics } from './metrics.js';
import { loadServedModel, type ModelInternals, type ServedModel } from './model.js';
import { ModelLoadGate } from './model-checks.js';
import { ModelReloader } from './model-reloader.js';
import { PredictionCache } from './prediction-cache.js';
import { Predictor } from './predictor.js';
import { connectRedis, redisReady } from './redis.js';
import { ShadowScorer } from './shadow.js';

export interface Engine {
  predictor: Predictor;
  metrics: ServiceMetrics;
  reloader: ModelReloader;
  /** Shadow scoring of a candidate model (idle until one is loaded). */
  shadow: ShadowScorer;
  /** The Redis connection, when REDIS_URL is set (the HTTP rate limit shares it). */
  redis: Redis | undefined;
  /** Finishes every accepted text, stops the workers, disconnects Redis. */
  close(): Promise<void>;
}

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, redact: ['req.headers.authorization', 'req.headers["x-api-key"]'] });
}

export async function startEngine(config: Config, logger: Logger = createLogger(config), internals: ModelInternals = {}): Promise<Engine> {
  // Opened first so that it connects while the model loads; the replica serves once it is ready (or has
  // failed: Redis down at start-up is logged and the limit fails open, as it does in a later outage).
  const redis = config.redisUrl !== undefined ? connectRedis(config.redisUrl, logger) : undefined;
  let metrics: ServiceMetrics | undefined;
  const onWorkerCrash = () => {
    metrics?.workerRestarts.inc();
    logger.error('an inference worker died; its batch failed with 503 and a new worker is starting');
  };
  let model: ServedModel;
  try {
    model = await loadServedModel(config, logger, internals, onWorkerCrash);
  } catch (error) {
    redis?.disconnect();
    throw error;
  }
  if (redis !== undefined) await redisReady(redis);
  let predictor: Predictor | undefined;
  // Unset on a CPU: as many texts as the workers run in half the deadline (core/batch-budget.ts), measured
  // like MAX_BATCH_TOKENS below and, like it, chosen once at start-up.
  const { msPerToken } = model.backend.description;
  const maxQueue = config.maxQueue ?? autoMaxQueue(msPerToken, model.backend.workers, config.requestTimeoutMs, config.maxClientBatch);
  if (config.maxQueue === undefined) {
    logger.info({ maxQueue, msPerToken, workers: model.backend.workers }, 'MAX_QUEUE chosen from the cost per token measured at warm-up');
  }
  metrics = new ServiceMetrics({
    depth: () => predictor?.queueDepth ?? 0,
    inFlight: () => predictor?.batchesInFlight ?? 0,
    capacity: () => maxQueue,
  });
  const cache = config.cacheSize > 0
    ? new PredictionCache({ size: config.cacheSize, redis: config.cacheRedis ? redis : undefined, ttlSeconds: config.cacheTtlSeconds, metrics, logger })
    : undefined;
  // Unset on a CPU: sized from the cost per token the first worker measured at warm-up. Chosen once, for the
  // model served at start-up; a hot reload keeps it (set MAX_BATCH_TOKENS to fix it for every model).
  const maxBatchTokens = config.maxBatchTokens ?? autoMaxBatchTokens(msPerToken);
  if (config.maxBatchTokens === undefined) {
    logger.info({ maxBatchTokens, msPerToken }, 'MAX_BATCH_TOKENS chosen from the cost per token measured at warm-up');
  }
  predictor = new Predictor(
    model,
    { maxBatchSize: config.maxBatchSize, maxBatchTokens, maxWaitMs: config.maxBatchWaitMs, maxQueue },
    { maxTextChars: config.maxTextChars, maxClientBatch: config.maxClientBatch, requestTimeoutMs: config.requestTimeoutMs, explainMaxWords: config.explainMaxWords },
    metrics,
    cache,
  );
  metrics.setModel(model.description);
  // One model load at a time, a reload's or a shadow candidate's.
  const gate = new ModelLoadGate();
  const reloader = new ModelReloader(predictor, () => loadServedModel(config, logger, internals, onWorkerCrash), metrics, logger, gate);
  const shadowLogger = logger.child({ shadow: true });
  const shadow = new ShadowScorer({
    predictor,
    // Its own workers, one ONNX Runtime thread each: it takes little of the cores the live model serves from.
    load: (path) => loadServedModel({ ...config, modelPath: path, workers: config.shadowWorkers, intraOpThreads: 1 }, shadowLogger, internals, () => {
      shadowLogger.error('a shadow candidate worker died; its batch was not compared and a new worker is starting');
    }),
    gate,
    metrics,
    logger: shadowLogger,
    batchSize: Math.min(config.maxBatchSize, 32),
    maxRunTokens: maxBatchTokens,
  });
  const served = predictor;
  const close = async () => {
    await shadow.close();
    await served.close();
    redis?.disconnect();
  };
  if (config.shadowModelPath !== undefined) {
    try {
      await shadow.start(config.shadowModelPath, config.shadowSampleRate);
    } catch (error) {
      await close();
      throw new Error(`SHADOW_MODEL_PATH: ${(error as Error).message}`, { cause: error });
    }
  }
  return { predictor: served, metrics, reloader, shadow, redis, close };
}
