// buildApp(): the Fastify application — plugins, schemas, error handler and routes — over an already
// started predictor. It does no tokenizing or inference itself.
import Fastify, { LogController, type FastifyInstance, type onRequestHookHandler } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { KeyRing, requireKey } from './auth.js';
import { registerCompression } from './compression.js';
import type { Config } from '../core/config.js';
import { registerCors } from './cors.js';
import { installErrorHandler } from './error-handler.js';
import type { ServiceMetrics } from '../core/metrics.js';
import type { ModelReloader } from '../core/model-reloader.js';
import type { Predictor } from '../core/predictor.js';
import type { ShadowScorer } from '../core/shadow.js';
import { CLIENT_BUDGET, type RouteAccess } from './routes/access.js';
import { registerDocs, registerHttpMetrics, registerPressureShedding, registerRateLimit } from './plugins.js';
import { adminRoutes } from './routes/admin.js';
import { hfRoutes } from './routes/hf.js';
import { operationsRoutes } from './routes/operations.js';
import { playgroundRoutes } from './routes/playground.js';
import { predictRoutes } from './routes/predict.js';
import { predictStreamRoutes } from './routes/predict-stream.js';
import { teiRoutes } from './routes/tei.js';
import { v2Routes } from './routes/v2.js';
import { serviceInfo } from './service-info.js';
import { errorSchema, metricsRouteSchema, predictionSchema } from './schemas.js';
import { answerWrongMethods, trackRoutes } from './method-not-allowed.js';
import { echoRequestId, requestId } from './request-id.js';
import { endUnusedConnectionsOnClose } from './unused-connections.js';

export interface AppDependencies {
  config: Config;
  predictor: Predictor;
  metrics: ServiceMetrics;
  logger: Logger;
  reloader: ModelReloader;
  shadow: ShadowScorer;
  redis?: Redis | undefined;
}

/** The HTTP server's options that do not depend on the configuration (the benchmark's no-op server shares them). */
export const FASTIFY_OPTIONS = {
  // The id comes from requestId(), which reads X-Request-ID itself: Fastify would take any value as it is.
  requestIdHeader: false,
  genReqId: requestId,
  // Longer than NGINX's upstream keepalive_timeout (60 s), so NGINX, not us, closes idle connections
  // and never sends a request on a connection we are closing.
  keepAliveTimeout: 75_000,
  // A request that reaches a closing server is served (its answer closes the connection), not refused with
  // Fastify's own 503: closing reaps only idle connections, so one whose last answer was still being written
  // stays open without `connection: close`, and the next request a proxy sends on it would otherwise fail
  // (NGINX does not retry a 503). The batcher runs until every connection has ended.
  return503OnClosing: false,
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

export async function buildApp({ config, predictor, metrics, logger, reloader, shadow, redis }: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    ...FASTIFY_OPTIONS,
    loggerInstance: logger,
    // Per-request log lines cost more CPU than a prediction at thousands of requests per second; NGINX
    // keeps the access log. LOG_LEVEL=debug turns them on.
    // The request id's name in log lines is the one of the service's error bodies (requestId).
    logController: new LogController({ disableRequestLogging: !['debug', 'trace'].includes(config.logLevel), requestIdLogLabel: 'requestId' }),
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
  endUnusedConnectionsOnClose(app);
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
    // A prediction request that got answers (predictForReply, the stream): its key's usage.
    if (request.textsAnswered !== undefined) metrics.countKeyUsage(request.clientName ?? 'anonymous', request.textsAnswered);
    done();
  });

  // The API speaks JSON only: a text/plain body is refused with 415 rather than read as a bare string.
  app.removeContentTypeParser('text/plain');
  app.addSchema(errorSchema);
  app.addSchema(predictionSchema);

  // Before every plugin that may answer early (preflights, pressure, keys, rate limit), so that those
  // answers carry the request id and CORS headers too; compression before any route, as it hooks each one.
  const routes = trackRoutes(app);
  await app.register(echoRequestId);
  await registerCors(app, config.corsOrigins);
  await registerCompression(app, config.compression);
  await registerDocs(app);
  await registerHttpMetrics(app, metrics);
  await registerPressureShedding(app, config);
  await registerRateLimit(app, config, redis, metrics);

  const clientKeys = new KeyRing(config.apiKeys);
  const adminKeys = new KeyRing(config.adminApiKeys);
  const clientAccess = routeAccess(requireKey([clientKeys, adminKeys], { open: clientKeys.size === 0, purpose: 'prediction API' }), config.rateLimitMax > 0);
  const adminAccess = routeAccess(requireKey([adminKeys], { open: false, purpose: 'admin API', known: [clientKeys] }), false);

  await app.register(operationsRoutes, { predictor, access: clientAccess });
  await app.register(predictRoutes, { predictor, access: clientAccess });
  await app.register(predictStreamRoutes, { predictor, bodyLimit: config.bodyLimit, access: clientAccess });
  await app.register(adminRoutes, { reloader, shadow, sampleRate: config.shadowSampleRate, access: adminAccess });
  await app.register(playgroundRoutes, { predictor, enabled: config.playground, maxClientBatch: config.maxClientBatch });
  // The protocols other clients speak: thin adapters over the same predictor and access.
  const { name: serverName, version } = serviceInfo();
  await app.register(teiRoutes, { predictor, access: clientAccess, version });
  await app.register(hfRoutes, { predictor, access: clientAccess });
  await app.register(v2Routes, { predictor, access: clientAccess, serverName, version });

  // With METRICS_PORT set, /metrics is served there only (server/service.ts starts that server), not on the public port.
  if (config.metricsPort === undefined) registerMetricsRoute(app, metrics);
  // Last: the paths of every route above are known.
  answerWrongMethods(app, routes, { preflights: config.corsOrigins.length > 0 });

  return app;
}

function routeAccess(onRequest: onRequestHookHandler | undefined, rateLimited: boolean): RouteAccess {
  // Every rate-limited route spends the same per-client budget: RATE_LIMIT_MAX across all of them, not each.
  return { ...(onRequest ? { onRequest } : {}), config: rateLimited ? { rateLimit: { groupId: CLIENT_BUDGET } } : {} };
}

export function registerMetricsRoute(app: FastifyInstance, metrics: ServiceMetrics): void {
  app.get('/metrics', { schema: metricsRouteSchema }, async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
