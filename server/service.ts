// Start-up in a fixed order, as Hugging Face TEI does it: read the model directory → start the workers
// (each loads the tokenizer and the session and warms up at the largest batch) → the batcher → the HTTP app.
// Nothing listens until the model answers. Shutdown runs the other way and loses no accepted request.
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { loadModelFiles } from '../inference/model-files.js';
import { InferencePool } from '../inference/pool.js';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { ServiceMetrics } from './metrics.js';
import { LENGTH_MULTIPLE, Predictor, type ServedModel } from './predictor.js';

export interface Service {
  app: FastifyInstance;
  predictor: Predictor;
  metrics: ServiceMetrics;
  config: Config;
  /** Stops taking requests, answers every accepted one, stops the workers. */
  close(): Promise<void>;
}

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, redact: ['req.headers.authorization', 'req.headers["x-api-key"]'] });
}

export async function loadServedModel(config: Config, logger: Logger): Promise<ServedModel> {
  const files = loadModelFiles(config.modelPath, { maxTokens: config.maxTokens });
  const started = performance.now();
  const pool = await InferencePool.start({
    files,
    device: config.device,
    workers: config.workers,
    intraOpThreads: config.intraOpThreads,
    tokenizerThreads: config.tokenizerThreads,
    lengthMultiple: LENGTH_MULTIPLE,
    warmupBatchSize: config.maxBatchSize,
  });
  logger.info({
    model: files.name, sha256: files.sha256, labels: files.labels, maxTokens: files.maxTokens, device: config.device,
    providers: pool.description.providers, workers: pool.workers, intraOpThreads: pool.intraOpThreads,
    loadMs: Math.round(performance.now() - started),
  }, 'model loaded and warmed up');
  return { pool, labels: files.labels, version: files.sha256.slice(0, 12), loadedAt: new Date() };
}

export async function startService(config: Config, logger: Logger = createLogger(config)): Promise<Service> {
  const model = await loadServedModel(config, logger);
  let predictor: Predictor | undefined;
  const metrics = new ServiceMetrics({ depth: () => predictor?.queueDepth ?? 0, inFlight: () => predictor?.batchesInFlight ?? 0 });
  predictor = new Predictor(model, {
    maxBatchSize: config.maxBatchSize,
    maxBatchTokens: config.maxBatchTokens,
    maxWaitMs: config.maxBatchWaitMs,
    maxQueue: config.maxQueue,
  }, metrics);
  metrics.setModel({ name: model.pool.files.name, sha256: model.pool.files.sha256, device: config.device, provider: model.pool.description.providers[0] ?? config.device });
  model.pool.onCrash(() => {
    metrics.workerRestarts.inc();
    logger.error('an inference worker died; its batch failed with 503 and a new worker is starting');
  });
  const app = await buildApp({ config, predictor, metrics, logger });
  const served = predictor;
  return {
    app,
    predictor: served,
    metrics,
    config,
    async close() {
      // Fastify stops accepting and waits for the requests in flight, which wait on the batcher; then the
      // batcher (empty by now) and the workers stop.
      await app.close();
      await served.close();
    },
  };
}
