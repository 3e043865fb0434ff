// The Fastify plugins the service registers, one function each: OpenAPI docs, HTTP metrics, shedding under
// pressure and the rate limit. server/app.ts decides the order.
import rateLimit from '@fastify/rate-limit';
import promClient from '@prometheus-io/client';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import fastifyMetricsModule from 'fastify-metrics';
import type { Redis } from 'ioredis';
import type { Config } from '../core/config.js';
import { overloaded, rateLimited } from './http-errors.js';
import type { ServiceMetrics } from '../core/metrics.js';
import { sharedBudgetStore } from './rate-limit-store.js';

/**
 * Routes that answer even under pressure: a lagging process is busy, not dead, and must not be killed
 * (liveness); readiness reports the pressure itself, with its own body; metrics must show it.
 */
const ALWAYS_ANSWERED = new Set(['/api/health', '/api/ready', '/metrics', '/health', '/v2/health/live', '/v2/health/ready', '/v2/models/:name/ready', '/v2/models/:name/versions/:version/ready']);

// fastify-metrics is CommonJS compiled from ES modules: its plugin is the `default` of the default export.
const fastifyMetrics = fastifyMetricsModule.default;

const HTTP_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Tweet sentiment inference service',
        description: [
          'Sentiment of short English texts (tweets) with a dynamically micro-batched ONNX model. Errors are `{statusCode, code, error, message, requestId}`',
          '(TEI\'s and V2\'s routes answer in their protocols\' shapes); 503s carry Retry-After. Every response carries `x-request-id` (the',
          'caller\'s X-Request-ID when it is 1-128 of A-Z a-z 0-9 . _ : -, else a new UUID). A known path asked with another method answers',
          '405 with `Allow`. Answers of 1 KiB or more and NDJSON streams are compressed (br or gzip) when Accept-Encoding allows it (COMPRESSION).',
          'With CORS_ORIGINS set, pages on those origins may call every route from a browser.',
        ].join(' '),
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
        { name: 'tei', description: 'Hugging Face Text Embeddings Inference\'s routes for a classifier (errors: {error, error_type})' },
        { name: 'hf', description: 'Hugging Face Inference API text-classification task, for @huggingface/inference and huggingface_hub (errors: {error, error_type})' },
        { name: 'v2', description: 'Open Inference Protocol (KServe V2) REST routes (errors: {error})' },
      ],
    },
    transformObject: (document) => ('openapiObject' in document ? withRequestIdHeader(document.openapiObject) : document.swaggerObject),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

}

/** What withRequestIdHeader reads of an OpenAPI document. */
interface Operations { [method: string]: { responses?: { [status: string]: { headers?: object } } } | undefined }

/** The x-request-id header on every response of every operation: server/request-id.ts sends it on all. */
function withRequestIdHeader<D extends { paths?: object }>(document: D): D {
  const header = { description: 'The request\'s id: the caller\'s X-Request-ID when it is safe, else a new UUID; also in the service\'s error bodies and log lines', schema: { type: 'string' } };
  for (const operations of Object.values(document.paths ?? {}) as Operations[]) {
    for (const operation of Object.values(operations)) {
      for (const response of Object.values(operation?.responses ?? {})) response.headers = { ...response.headers, 'x-request-id': header };
    }
  }
  return document;
}

export async function registerHttpMetrics(app: FastifyInstance, metrics: ServiceMetrics): Promise<void> {
  await app.register(fastifyMetrics, {
    endpoint: null,
    // The client core/metrics.ts made the registry with. Left null, the plugin prefers @platformatic/prom-client
    // whenever that package is installed, and would put that client's metrics in this registry.
    promClient,
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

}

export async function registerPressureShedding(app: FastifyInstance, config: Config): Promise<void> {
  // Shed load before the process degrades: past these limits every route but liveness and metrics answers
  // 503 with Retry-After, and readiness turns 503 so that balancers send traffic elsewhere.
  await app.register(underPressure, {
    maxEventLoopDelay: config.maxEventLoopDelayMs,
    maxHeapUsedBytes: config.maxHeapUsedBytes,
    maxRssBytes: config.maxRssBytes,
    retryAfter: 1,
    pressureHandler: (request, _reply, type) => {
      if (ALWAYS_ANSWERED.has(request.routeOptions.url ?? '')) return undefined;
      return Promise.reject(overloaded(type));
    },
  });

}

export async function registerRateLimit(app: FastifyInstance, config: Config, redis: Redis | undefined, metrics: ServiceMetrics): Promise<void> {
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
      store: sharedBudgetStore(redis, 'sentiment:ratelimit:', () => metrics.redisFailures.inc({ use: 'rate_limit' })),
      // Redis down: allow rather than refuse everyone (counted in sentiment_redis_failures_total).
      skipOnError: true,
      errorResponseBuilder: (_request, context) => rateLimited(context.max, config.rateLimitWindowMs),
    });
  }
}
