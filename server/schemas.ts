// JSON schemas of the API. Fastify validates requests with them (ajv) and serializes responses with them
// (fast-json-stringify); @fastify/swagger turns them into the OpenAPI document at /docs.
import { DTYPES } from '../inference/onnx-files.js';

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  description: 'Every error response has this shape; `code` is listed in the README error table.',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' },
    requestId: { type: 'string', description: 'The request\'s id, as in the x-request-id header and the service\'s log lines' },
  },
} as const;

export const predictionSchema = {
  $id: 'Prediction',
  type: 'object',
  required: ['label', 'score', 'scores', 'truncated'],
  properties: {
    label: { type: 'string', description: 'The most likely label', examples: ['positive'] },
    score: { type: 'number', description: 'Its probability' },
    scores: {
      type: 'object',
      description: 'Softmax probability of every label of the model (config.json id2label)',
      additionalProperties: { type: 'number' },
    },
    truncated: { type: 'boolean', description: 'True when the text had more tokens than the model accepts and its end was cut' },
  },
} as const;

export function textSchema(maxTextChars: number) {
  return {
    type: 'string',
    minLength: 1,
    maxLength: maxTextChars,
    description: `A text of 1 to ${maxTextChars} characters (MAX_TEXT_CHARS), not only whitespace; longer gets 413`,
  } as const;
}

/** Headers sent with every prediction. */
export const timingHeaders = {
  'x-queue-time': { type: 'string', description: 'Time the texts waited for their batch, ms' },
  'x-inference-time': { type: 'string', description: 'Time of the batch run in the worker, ms' },
  'x-total-time': { type: 'string', description: 'Time from request to response, ms' },
  'x-model-version': { type: 'string', description: 'First 12 hex digits of the model file sha256' },
  'x-cache': { type: 'string', enum: ['hit', 'miss', 'partial'], description: 'Whether the prediction cache answered every text, none, or some' },
} as const;

/**
 * A route schema with what its access adds to the OpenAPI document: the API key it needs (so that "Try it
 * out" on /docs sends one) and the 401 and 429 it may then answer.
 */
export function withAccess<S extends { response: Record<number, unknown> }>(schema: S, access: { onRequest?: unknown; config?: { rateLimit?: unknown } }): S {
  const keys = access.onRequest !== undefined;
  const limited = access.config?.rateLimit !== undefined;
  if (!keys && !limited) return schema;
  return {
    ...schema,
    ...(keys ? { security: [{ bearer: [] }, { apiKey: [] }] } : {}),
    response: {
      ...schema.response,
      ...(keys ? { 401: { $ref: 'Error#' } } : {}),
      ...(limited ? { 429: { $ref: 'Error#' } } : {}),
    },
  };
}

export const errorResponses = {
  400: { $ref: 'Error#' },
  413: { $ref: 'Error#' },
  415: { $ref: 'Error#' },
  503: { $ref: 'Error#' },
  504: { $ref: 'Error#' },
} as const;

export function predictRouteSchema(maxTextChars: number) {
  return {
    summary: 'Predict the sentiment of one text',
    tags: ['prediction'],
    body: {
      type: 'object',
      required: ['text'],
      additionalProperties: false,
      properties: { text: textSchema(maxTextChars) },
      examples: [{ text: 'I love this new phone, the camera is amazing!' }],
    },
    response: {
      200: { $ref: 'Prediction#', headers: timingHeaders },
      ...errorResponses,
    },
  };
}

export function predictBatchRouteSchema(maxTextChars: number, maxClientBatch: number) {
  return {
    summary: 'Predict the sentiment of several texts; predictions come back in the same order',
    tags: ['prediction'],
    body: {
      type: 'object',
      required: ['texts'],
      additionalProperties: false,
      properties: {
        texts: {
          type: 'array',
          minItems: 1,
          maxItems: maxClientBatch,
          description: `1 to ${maxClientBatch} texts (MAX_CLIENT_BATCH); more gets 413`,
          items: textSchema(maxTextChars),
        },
      },
      examples: [{ texts: ['what a great day', 'worst service ever'] }],
    },
    response: {
      200: {
        type: 'object',
        required: ['predictions'],
        properties: { predictions: { type: 'array', items: { $ref: 'Prediction#' } } },
        headers: timingHeaders,
      },
      ...errorResponses,
    },
  };
}

export const healthRouteSchema = {
  summary: 'Liveness: the process answers',
  tags: ['operations'],
  response: {
    200: {
      type: 'object',
      required: ['status', 'message'],
      properties: { status: { type: 'string', enum: ['healthy'] }, message: { type: 'string' } },
    },
  },
} as const;

const readinessBody = {
  type: 'object',
  required: ['status', 'queueDepth', 'maxQueue'],
  properties: {
    status: { type: 'string', enum: ['ready', 'not ready'] },
    reason: { type: 'string' },
    queueDepth: { type: 'integer' },
    maxQueue: { type: 'integer' },
  },
} as const;

export const readyRouteSchema = {
  summary: 'Readiness: the model is loaded and the queue is not saturated',
  tags: ['operations'],
  response: { 200: readinessBody, 503: readinessBody },
} as const;

export const metricsRouteSchema = {
  summary: 'Prometheus metrics (text exposition format); on METRICS_PORT only when that is set',
  tags: ['operations'],
  response: {
    200: {
      description: 'Every sentiment_* metric of the service, HTTP request histograms by route, and the process and Node.js defaults',
      content: { 'text/plain': { schema: { type: 'string' } } },
    },
  },
} as const;

export const modelRouteSchema = {
  summary: 'The model being served',
  tags: ['operations'],
  response: {
    200: {
      type: 'object',
      required: ['name', 'labels', 'maxTokens', 'device', 'executionProviders', 'sha256', 'version', 'loadedAt'],
      properties: {
        name: { type: 'string' },
        file: { type: 'string', description: 'The ONNX file served, relative to the model directory (model.onnx, onnx/model_quantized.onnx...)' },
        labels: { type: 'array', items: { type: 'string' } },
        maxTokens: { type: 'integer', description: 'Tokens per text after which it is truncated' },
        device: { type: 'string', enum: ['cpu', 'webgpu', 'cuda'] },
        executionProviders: { type: 'array', items: { type: 'string' } },
        dtype: { type: 'string', enum: DTYPES, description: 'The ONNX file\'s dtype, in transformers.js\'s names: fp32, fp16, q8 (dynamic int8)...' },
        workers: { type: 'integer' },
        intraOpThreads: { type: 'integer' },
        sizing: { type: 'string', description: 'How WORKERS × INTRA_OP_THREADS were decided: set, or chosen at start-up from the model\'s measured cost, with the measurement' },
        runRows: { type: 'integer', description: 'Texts per ONNX Runtime run: each worker cuts its batches into runs of texts of similar length, this many at most (the size that cost least per token at warm-up)' },
        sha256: { type: 'string' },
        version: { type: 'string', description: 'First 12 hex digits of sha256' },
        loadedAt: { type: 'string', format: 'date-time' },
      },
    },
  },
} as const;

const modelSummary = {
  type: 'object',
  required: ['name', 'sha256', 'version', 'loadedAt'],
  properties: {
    name: { type: 'string' },
    sha256: { type: 'string' },
    version: { type: 'string' },
    loadedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const reloadRouteSchema = {
  summary: 'Load the model now at MODEL_PATH, check it and swap it in without downtime (admin key)',
  description: 'The old model serves until the new one is loaded, warmed up and checked (it loads, answers a test prediction, has the same label set); a model that fails is refused with 422 and the old one keeps serving.',
  tags: ['operations'],
  security: [{ bearer: [] }, { apiKey: [] }],
  response: {
    200: {
      type: 'object',
      required: ['status', 'previous', 'current', 'loadMs'],
      properties: {
        status: { type: 'string', enum: ['swapped', 'unchanged'] },
        previous: modelSummary,
        current: modelSummary,
        loadMs: { type: 'number' },
      },
    },
    401: { $ref: 'Error#' },
    403: { $ref: 'Error#' },
    409: { $ref: 'Error#' },
    422: { $ref: 'Error#' },
  },
} as const;
