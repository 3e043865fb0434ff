// Start-up in a fixed order, as Hugging Face TEI does it: read the model directory → start the workers
// (each loads the tokenizer and the session and warms up at the largest batch) → the batcher → the HTTP app.
// Nothing listens until the model answers. Shutdown runs the other way and loses no accepted request.
import type { FastifyInstance } from 'fastify';
import Fastify from 'fastify';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { loadModelFiles } from '../inference/model-files.js';
import { InferencePool } from '../inference/pool.js';
import { buildApp, registerMetricsRoute } from './app.js';
import type { Config } from '../core/config.js';
import { ServiceMetrics } from '../core/metrics.js';
import { ModelReloader } from '../core/model-reloader.js';
import { PredictionCache } from '../core/prediction-cache.js';
import { LENGTH_MULTIPLE, Predictor, type ServedModel } from '../core/predictor.js';
import { connectRedis } from '../core/redis.js';

export interface Service {
  app: FastifyInstance;
  /** Serves /metrics alone when METRICS_PORT is set. */
  metricsApp: FastifyInstance | undefined;
  predictor: Predictor;
  metrics: ServiceMetrics;
  reloader: ModelReloader;
  config: Config;
  logger: Logger;
  /** Listens on HOST:PORT (and HOST:METRICS_PORT). */
  listen(): Promise<void>;
  /** Stops taking requests, answers every accepted one, stops the workers. */
  close(): Promise<void>;
}

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, redact: ['req.headers.authorization', 'req.headers["x-api-key"]'] });
}

/** What tests may swap in below the configuration (a worker module that injects faults). */
export interface ServiceInternals {
  workerFile?: string;
}

/** Loads the model at MODEL_PATH into a new, warmed-up pool of workers. */
export async function loadServedModel(config: Config, logger: Logger, internals: ServiceInternals = {}): Promise<ServedModel> {
  const precision = config.modelPrecision === 'auto' ? (config.device === 'cpu' ? 'fp32' : 'prefer-fp16') : config.modelPrecision;
  const files = loadModelFiles(config.modelPath, { maxTokens: config.maxTokens, precision });
  const started = performance.now();
  const pool = await InferencePool.start({
    files,
    device: config.device,
    workers: config.workers,
    intraOpThreads: config.intraOpThreads,
    tokenizerThreads: config.tokenizerThreads,
    lengthMultiple: LENGTH_MULTIPLE,
    warmupBatchSize: config.maxBatchSize,
    workerFile: internals.workerFile,
  });
  logger.info({
    model: files.name, file: files.onnxPath, sha256: files.sha256, labels: files.labels, maxTokens: files.maxTokens,
    device: config.device, providers: pool.description.providers, workers: pool.workers, intraOpThreads: pool.intraOpThreads,
    tokenizerThreads: pool.tokenizerThreads, loadMs: Math.round(performance.now() - started),
  }, 'model loaded and warmed up');
  return { pool, labels: files.labels, sha256: files.sha256, version: files.sha256.slice(0, 12), loadedAt: new Date() };
}

export async function startService(config: Config, logger: Logger = createLogger(config), internals: ServiceInternals = {}): Promise<Service> {
  const model = await loadServedModel(config, logger, internals);
  const redis: Redis | undefined = config.redisUrl !== undefined ? connectRedis(config.redisUrl, logger) : undefined;
  let predictor: Predictor | undefined;
  const metrics = new ServiceMetrics({
    depth: () => predictor?.queueDepth ?? 0,
    inFlight: () => predictor?.batchesInFlight ?? 0,
    capacity: () => config.maxQueue,
  });
  const cache = config.cacheSize > 0
    ? new PredictionCache({ size: config.cacheSize, redis: config.cacheRedis ? redis : undefined, ttlSeconds: config.cacheTtlSeconds, metrics, logger })
    : undefined;
  predictor = new Predictor(model, {
    maxBatchSize: config.maxBatchSize,
    maxBatchTokens: config.maxBatchTokens,
    maxWaitMs: config.maxBatchWaitMs,
    maxQueue: config.maxQueue,
  }, metrics, cache);
  const served = predictor;
  const watchCrashes = (servedModel: ServedModel) => servedModel.pool.onCrash(() => {
    metrics.workerRestarts.inc();
    logger.error('an inference worker died; its batch failed with 503 and a new worker is starting');
  });
  watchCrashes(model);
  metrics.setModel({ name: model.pool.files.name, sha256: model.sha256, device: config.device, provider: model.pool.description.providers[0] ?? config.device });
  const reloader = new ModelReloader(served, async () => {
    const next = await loadServedModel(config, logger, internals);
    watchCrashes(next);
    return next;
  }, metrics, logger);

  const app = await buildApp({ config, predictor: served, metrics, logger, reloader, redis });
  let metricsApp: FastifyInstance | undefined;
  if (config.metricsPort !== undefined) {
    metricsApp = Fastify({ loggerInstance: logger }) as unknown as FastifyInstance;
    registerMetricsRoute(metricsApp, metrics);
  }
  return {
    app,
    metricsApp,
    predictor: served,
    metrics,
    reloader,
    config,
    logger,
    async listen() {
      await app.listen({ host: config.host, port: config.port });
      if (metricsApp) await metricsApp.listen({ host: config.host, port: config.metricsPort });
    },
    async close() {
      // Fastify stops accepting and waits for the requests in flight, which wait on the batcher; then the
      // batcher (empty by now) and the workers stop.
      await app.close();
      await served.close();
      await metricsApp?.close();
      redis?.disconnect();
    },
  };
}
