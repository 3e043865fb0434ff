// buildApp(): the Fastify application — plugins, schemas, error handler and routes — over an already
// started predictor. It does no tokenizing or inference itself.
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import underPressure from '@fastify/under-pressure';
import fastifyMetricsModule from 'fastify-metrics';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { KeyRing, requireKey } from './auth.js';
import { CLIENT_BUDGET } from './routes/access.js';
import { sharedBudgetStore } from './rate-limit-store.js';
import type { Config } from './config.js';
import { installErrorHandler } from './error-handler.js';
import { OverloadedError, RateLimitedError } from './errors.js';
import type { ServiceMetrics } from './metrics.js';
import type { ModelReloader } from './model-reloader.js';
import type { Predictor } from './predictor.js';
import { adminRoutes } from './routes/admin.js';
import { operationsRoutes } from './routes/operations.js';
import { playgroundRoutes } from './routes/playground.js';
import { predictRoutes } from './routes/predict.js';
import { errorSchema, predictionSchema } from './schemas.js';

export interface AppDependencies {
  config: Config;
  predictor: Predictor;
  metrics: ServiceMetrics;
  logger: Logger;
  reloader: ModelReloader;
  redis?: Redis | undefined;
}

/**
 * Routes that answer even under pressure: a lagging process is busy, not dead, and must not be killed
 * (liveness); readiness reports the pressure itself, with its own body; metrics must show it.
 */
const ALWAYS_ANSWERED = new Set(['/api/health', '/api/ready', '/metrics']);

// fastify-metrics is CommonJS compiled from ES modules: its plugin is the `default` of the default export.
const fastifyMetrics = fastifyMetricsModule.default;

const HTTP_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export async function buildApp({ config, predictor, metrics, logger, reloader, redis }: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    // Per-request log lines cost more CPU than a prediction at thousands of requests per second; NGINX
    // keeps the access log. LOG_LEVEL=debug turns them on.
    logController: new LogController({ disableRequestLogging: !['debug', 'trace'].includes(config.logLevel) }),
    requestIdHeader: 'x-request-id',
    bodyLimit: config.bodyLimit,
    // Longer than NGINX's upstream keepalive_timeout (60 s), so NGINX, not us, closes idle connections
    // and never sends a request on a connection we are closing.
    keepAliveTimeout: 75_000,
    trustProxy: config.trustProxy === 'false' ? false : config.trustProxy,
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

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Tweet sentiment inference service',
        description: 'Sentiment of short English texts (tweets) with a dynamically micro-batched ONNX model. Errors are `{statusCode, code, error, message}`; 503s carry Retry-After.',
        version: '1.0.0',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API key from API_KEYS (admin routes: ADMIN_API_KEYS)' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'The same key, in X-API-Key' },
        },
      },
      tags: [
        { name: 'prediction', description: 'Sentiment predictions' },
        { name: 'operations', description: 'Health, readiness and model information' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(fastifyMetrics, {
    endpoint: null,
    promClient: null,
    defaultMetrics: { enabled: true, register: metrics.registry },
    routeMetrics: {
      enabled: { histogram: true, summary: false },
      registeredRoutesOnly: true,
      routeBlacklist: ['/metrics', /^\/docs/],
      overrides: {
        histogram: { buckets: HTTP_SECONDS_BUCKETS, registers: [metrics.registry] },
        // The plugin creates its summary even when disabled; registered nowhere, it cannot collide between apps.
        summary: { registers: [] },
      },
    },
  });

  // Shed load before the process degrades: past these limits every route but liveness and metrics answers
  // 503 with Retry-After, and readiness turns 503 so that balancers send traffic elsewhere.
  await app.register(underPressure, {
    maxEventLoopDelay: config.maxEventLoopDelayMs,
    maxHeapUsedBytes: config.maxHeapUsedBytes,
    maxRssBytes: config.maxRssBytes,
    retryAfter: 1,
    pressureHandler: (request, _reply, type) => {
      if (ALWAYS_ANSWERED.has(request.routeOptions.url ?? '')) return undefined;
      return Promise.reject(new OverloadedError(type));
    },
  });

  if (config.rateLimitMax > 0) {
    await app.register(rateLimit, {
      global: false,
      max: config.rateLimitMax,
      timeWindow: config.rateLimitWindowMs,
      // After authentication (an onRequest hook), so that a client is counted by its key, not its address.
      hook: 'preHandler',
      keyGenerator: (request) => (request.clientId !== undefined ? `key:${request.clientId}` : `ip:${request.ip}`),
      // In Redis when set, so that every replica counts against one budget; one counter per client for all
      // routes of a group (server/rate-limit-store.ts).
      store: sharedBudgetStore(redis, 'sentiment:ratelimit:'),
      // Redis down: allow rather than refuse everyone.
      skipOnError: true,
      errorResponseBuilder: (_request, context) => new RateLimitedError(context.max, config.rateLimitWindowMs),
    });
  }

  const clientKeys = new KeyRing(config.apiKeys);
  const adminKeys = new KeyRing(config.adminApiKeys);
  const clientAccess = {
    onRequest: requireKey([clientKeys, adminKeys], { open: clientKeys.size === 0, purpose: 'prediction API' }),
    // Every protected route spends the same per-client budget: RATE_LIMIT_MAX across all of them, not each.
    config: config.rateLimitMax > 0 ? { rateLimit: { groupId: CLIENT_BUDGET } } : {},
  };
  const adminAccess = { onRequest: requireKey([adminKeys], { open: false, purpose: 'admin API', known: [clientKeys] }) };

  await app.register(operationsRoutes, { predictor, maxQueue: config.maxQueue, access: clientAccess });
  await app.register(predictRoutes, {
    predictor,
    maxTextChars: config.maxTextChars,
    maxClientBatch: config.maxClientBatch,
    requestTimeoutMs: config.requestTimeoutMs,
    access: clientAccess,
  });
  await app.register(adminRoutes, { reloader, access: adminAccess });
  await app.register(playgroundRoutes, { predictor, enabled: config.playground, maxClientBatch: config.maxClientBatch });

  // With METRICS_PORT set, /metrics is served there only (server/metrics-server.ts), not on the public port.
  if (config.metricsPort === undefined) registerMetricsRoute(app, metrics);

  return app;
}

export function registerMetricsRoute(app: FastifyInstance, metrics: ServiceMetrics): void {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
