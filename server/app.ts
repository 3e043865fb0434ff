// buildApp(): the Fastify application — plugins, schemas, error handler and routes — over an already
// started predictor. It does no tokenizing or inference itself.
import Fastify, { LogController, type FastifyInstance, type onRequestHookHandler } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { KeyRing, requireKey } from './auth.js';
import type { Config } from '../core/config.js';
import { installErrorHandler } from './error-handler.js';
import type { ServiceMetrics } from '../core/metrics.js';
import type { ModelReloader } from '../core/model-reloader.js';
import type { Predictor } from '../core/predictor.js';
import { registerDocs, registerHttpMetrics, registerPressureShedding, registerRateLimit } from './plugins.js';
import type { RouteAccess } from './routes/access.js';
import { adminRoutes } from './routes/admin.js';
import { operationsRoutes } from './routes/operations.js';
import { predictRoutes } from './routes/predict.js';
import { predictStreamRoutes } from './routes/predict-stream.js';
import { errorSchema, predictionSchema } from './schemas.js';

export interface AppDependencies {
  config: Config;
  predictor: Predictor;
  metrics: ServiceMetrics;
  logger: Logger;
  reloader: ModelReloader;
  redis?: Redis | undefined;
}

/** The HTTP server's options that do not depend on the configuration (the benchmark's no-op server shares them). */
export const FASTIFY_OPTIONS = {
  requestIdHeader: 'x-request-id',
  // Longer than NGINX's upstream keepalive_timeout (60 s), so NGINX, not us, closes idle connections
  // and never sends a request on a connection we are closing.
  keepAliveTimeout: 75_000,
  return503OnClosing: true,
  ajv: {
    customOptions: {
      // Reject, never repair: "1" is not a text, and unknown fields are an error, not silently dropped.
      coerceTypes: false,
      removeAdditional: false,
      useDefaults: false,
      allErrors: false,
    },
  },
} as const;

export async function buildApp({ config, predictor, metrics, logger, reloader, redis }: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    ...FASTIFY_OPTIONS,
    loggerInstance: logger,
    // Per-request log lines cost more CPU than a prediction at thousands of requests per second; NGINX
    // keeps the access log. LOG_LEVEL=debug turns them on.
    logController: new LogController({ disableRequestLogging: !['debug', 'trace'].includes(config.logLevel) }),
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy === 'false' ? false : config.trustProxy,
  }) as unknown as FastifyInstance;

  // First, so that every plugin's routes (swagger-ui's too) answer errors the same way.
  installErrorHandler(app, {
    maxTextChars: config.maxTextChars,
    maxClientBatch: config.maxClientBatch,
    retryAfterSeconds: () => predictor.retryAfterSeconds(),
  });

  // While draining, answers close their connection: a keep-alive connection busy when close() began would
  // otherwise hold the process open until keepAliveTimeout.
  let draining = false;
  // Per-request hooks take callbacks, not async functions: no promise per request on the hot path.
  app.addHook('preClose', (done) => { draining = true; done(); });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) void reply.header('connection', 'close');
    done(null, payload);
  });

  app.addHook('onRequest', (request, _reply, done) => {
    if (request.url !== '/metrics') metrics.requestsInFlight.inc();
    done();
  });
  app.addHook('onResponse', (request, _reply, done) => {
    if (request.url !== '/metrics') metrics.requestsInFlight.dec();
    done();
  });

  // The API speaks JSON only: a text/plain body is refused with 415 rather than read as a bare string.
  app.removeContentTypeParser('text/plain');
  app.addSchema(errorSchema);
  app.addSchema(predictionSchema);

  await registerDocs(app);
  await registerHttpMetrics(app, metrics);
  await registerPressureShedding(app, config);
  await registerRateLimit(app, config, redis);

  const clientKeys = new KeyRing(config.apiKeys);
  const adminKeys = new KeyRing(config.adminApiKeys);
  const clientAccess = routeAccess(requireKey([clientKeys, adminKeys], { open: clientKeys.size === 0, purpose: 'prediction API' }), config.rateLimitMax > 0);
  const adminAccess = routeAccess(requireKey([adminKeys], { open: false, purpose: 'admin API', known: [clientKeys] }), false);

  await app.register(operationsRoutes, { predictor, access: clientAccess });
  await app.register(predictRoutes, { predictor, access: clientAccess });
  await app.register(predictStreamRoutes, { predictor, bodyLimit: config.bodyLimit, access: clientAccess });
  await app.register(adminRoutes, { reloader, access: adminAccess });

  // With METRICS_PORT set, /metrics is served there only (server/service.ts starts that server), not on the public port.
  if (config.metricsPort === undefined) registerMetricsRoute(app, metrics);

  return app;
}

function routeAccess(onRequest: onRequestHookHandler | undefined, rateLimited: boolean): RouteAccess {
  return { ...(onRequest ? { onRequest } : {}), config: rateLimited ? { rateLimit: {} } : {} };
}

export function registerMetricsRoute(app: FastifyInstance, metrics: ServiceMetrics): void {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
