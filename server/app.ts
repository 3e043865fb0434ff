// buildApp(): the Fastify application — plugins, schemas, error handler and routes — over an already
// started predictor. It does no tokenizing or inference itself.
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fastifyMetricsModule from 'fastify-metrics';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { installErrorHandler } from './error-handler.js';
import type { ServiceMetrics } from './metrics.js';
import type { Predictor } from './predictor.js';
import { operationsRoutes } from './routes/operations.js';
import { predictRoutes } from './routes/predict.js';
import { errorSchema, predictionSchema } from './schemas.js';

export interface AppDependencies {
  config: Config;
  predictor: Predictor;
  metrics: ServiceMetrics;
  logger: Logger;
}

// fastify-metrics is CommonJS compiled from ES modules: its plugin is the `default` of the default export.
const fastifyMetrics = fastifyMetricsModule.default;

const HTTP_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export async function buildApp({ config, predictor, metrics, logger }: AppDependencies): Promise<FastifyInstance> {
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

  // While draining, answers close their connection: a keep-alive connection busy when close() began would
  // otherwise hold the process open until keepAliveTimeout.
  let draining = false;
  app.addHook('preClose', async () => { draining = true; });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (draining) void reply.header('connection', 'close');
    return payload;
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

  installErrorHandler(app, {
    maxTextChars: config.maxTextChars,
    maxClientBatch: config.maxClientBatch,
    retryAfterSeconds: () => predictor.retryAfterSeconds(),
  });

  await app.register(operationsRoutes, { predictor, maxQueue: config.maxQueue });
  await app.register(predictRoutes, {
    predictor,
    maxTextChars: config.maxTextChars,
    maxClientBatch: config.maxClientBatch,
    requestTimeoutMs: config.requestTimeoutMs,
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  return app;
}
