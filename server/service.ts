// The HTTP service: the core (core/engine.ts: model, workers, batchers) started first, then the HTTP app.
// Nothing listens until the model answers. Shutdown runs the other way and loses no accepted request.
import type { FastifyInstance } from 'fastify';
import Fastify from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { createLogger, startEngine } from '../core/engine.js';
import type { ServiceMetrics } from '../core/metrics.js';
import type { ModelInternals } from '../core/model.js';
import type { ModelReloader } from '../core/model-reloader.js';
import type { Predictor } from '../core/predictor.js';
import type { ShadowScorer } from '../core/shadow.js';
import { buildApp, registerMetricsRoute } from './app.js';
import { endUnusedConnectionsOnClose } from './unused-connections.js';

export { createLogger } from '../core/engine.js';

/** Connections the kernel holds for accept(); capped by net.core.somaxconn (4096 on current Linux). */
const LISTEN_BACKLOG = 4096;
/** What tests may swap in below the configuration (a worker module that injects faults). */
export type ServiceInternals = ModelInternals;

export interface Service {
  app: FastifyInstance;
  /** Serves /metrics alone when METRICS_PORT is set. */
  metricsApp: FastifyInstance | undefined;
  predictor: Predictor;
  metrics: ServiceMetrics;
  reloader: ModelReloader;
  shadow: ShadowScorer;
  config: Config;
  logger: Logger;
  /** Listens on HOST:PORT (and HOST:METRICS_PORT). */
  listen(): Promise<void>;
  /** Stops taking requests, answers every accepted one, stops the workers. */
  close(): Promise<void>;
}

export async function startService(config: Config, logger: Logger = createLogger(config), internals: ServiceInternals = {}): Promise<Service> {
  const engine = await startEngine(config, logger, internals);
  const { predictor, metrics, reloader, shadow, redis } = engine;
  const app = await buildApp({ config, predictor, metrics, logger, reloader, shadow, redis });
  let metricsApp: FastifyInstance | undefined;
  if (config.metricsPort !== undefined) {
    metricsApp = Fastify({ loggerInstance: logger }) as unknown as FastifyInstance;
    registerMetricsRoute(metricsApp, metrics);
    endUnusedConnectionsOnClose(metricsApp);
  }
  return {
    app,
    metricsApp,
    predictor,
    metrics,
    reloader,
    shadow,
    config,
    logger,
    async listen() {
      // A deep accept queue (Node's default is 511): thousands of clients connecting at once on a busy CPU
      // otherwise overflow it, and the kernel resets connections the process never got to accept.
      await app.listen({ host: config.host, port: config.port, backlog: LISTEN_BACKLOG });
      if (metricsApp) await metricsApp.listen({ host: config.host, port: config.metricsPort });
    },
    async close() {
      // Fastify stops accepting and waits for the requests in flight, which wait on the batcher; then the
      // batcher (empty by now) and the workers stop.
      await app.close();
      await engine.close();
      await metricsApp?.close();
    },
  };
}
