// JSON schemas of the API. Fastify validates requests with them (ajv) and serializes responses with them
// (fast-json-stringify); @fastify/swagger turns them into the OpenAPI document at /docs.
import { DTYPES } from '../inference/onnx-files.js';
import { PROBLEM_TYPES } from '../inference/model-head.js';

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
  // No `required`: fast-json-stringify writes required properties first, and a single-label model's answer
  // keeps the order it always had (label, score, scores, truncated). scores and truncated are always there.
  description: 'The shape follows the model\'s head (/api/model `problemType`): a classifier answers label, score (and labels, for a multi-label model); a regression answers value and no label. `scores` and `truncated` are always present.',
  properties: {
    label: { type: 'string', description: 'The most likely label (a multi-label model: the highest-scoring one); absent for a regression', examples: ['positive'] },
    score: { type: 'number', description: 'Its probability' },
    labels: { type: 'array', items: { type: 'string' }, description: 'Multi-label models only: every label whose probability is at least 0.5, highest first (may be empty)' },
    value: { type: 'number', description: 'Regression models only: the model\'s output (the first, for a head with several)' },
    scores: {
      type: 'object',
      description: 'Every output of the model by its config.json id2label name: the softmax probability of each label (single-label), each label\'s own sigmoid probability (multi-label), or the raw values (regression)',
      additionalProperties: { type: 'number' },
    },
    truncated: { type: 'boolean', description: 'True when the text had more tokens than the model accepts and its end was cut' },
    explanation: {
      type: 'array',
      description: 'With `explain: true`: every word of the text, in order, with its weight: the predicted label\'s score (a regression\'s value) with the word minus without it (above 0 the word pushes towards the label)',
      items: {
        type: 'object',
        required: ['text', 'weight'],
        properties: { text: { type: 'string' }, weight: { type: 'number' } },
      },
    },
  },
} as const;

/** The `explain` flag of the prediction routes (and of each stream line). */
function explainProperty(explainMaxWords: number | undefined) {
  if (explainMaxWords === undefined) return {};
  return {
    explain: {
      type: 'boolean',
      description: `Add \`explanation\`: each word's weight, by scoring the text without it, in the same call (texts of at most ${explainMaxWords} words, EXPLAIN_MAX_WORDS; longer gets 413)`,
    },
  } as const;
}

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

/** `explainMaxWords` undefined: a server that does not explain (the benchmark's stand-ins) takes no `explain`. */
export function predictRouteSchema(maxTextChars: number, explainMaxWords?: number) {
  return {
    summary: 'Predict the sentiment of one text',
    tags: ['prediction'],
    body: {
      type: 'object',
      required: ['text'],
      additionalProperties: false,
      properties: { text: textSchema(maxTextChars), ...explainProperty(explainMaxWords) },
      examples: [{ text: 'I love this new phone, the camera is amazing!' }, ...(explainMaxWords === undefined ? [] : [{ text: 'worst customer service ever', explain: true }])],
    },
    response: {
      200: { $ref: 'Prediction#', headers: timingHeaders },
      ...errorResponses,
    },
  };
}

export function predictBatchRouteSchema(maxTextChars: number, maxClientBatch: number, explainMaxWords?: number) {
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
        ...explainProperty(explainMaxWords),
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
      required: ['name', 'labels', 'problemType', 'preprocessing', 'maxTokens', 'device', 'executionProviders', 'sha256', 'version', 'loadedAt'],
      properties: {
        name: { type: 'string' },
        file: { type: 'string', description: 'The ONNX file served, relative to the model directory (model.onnx, onnx/model_quantized.onnx...)' },
        labels: { type: 'array', items: { type: 'string' } },
        problemType: {
          type: 'string', enum: [...PROBLEM_TYPES],
          description: 'The model\'s head (config.json problem_type): what its scores mean and the shape of each prediction',
        },
        preprocessing: {
          type: 'array', items: { type: 'string' },
          description: 'Text normalization steps applied to every text before the model reads it and before the cache is asked (config.json text_preprocessing; empty: none)',
        },
        maxTokens: { type: 'integer', description: 'Tokens per text after which it is truncated' },
        device: { type: 'string', enum: ['cpu', 'webgpu', 'cuda'] },
        executionProviders: { type: 'array', items: { type: 'string' } },
        dtype: { type: 'string', enum: DTYPES, description: 'The ONNX file\'s dtype, in transformers.js\'s names: fp32, fp16, q8 (dynamic int8)...' },
        workers: { type: 'integer' },
        intraOpThreads: { type: 'integer' },
        sizing: { type: 'string', description: 'How WORKERS × INTRA_OP_THREADS were decided: set, or chosen at start-up from the model\'s measured cost, with the measurement' },
        runRows: { type: 'integer', description: 'Most texts per ONNX Runtime run: each worker sorts its batch by length and cuts it into runs, at most this many texts (the largest size within a tenth of the cheapest cost per token at warm-up)' },
        runOverheadTokens: { type: 'number', description: 'The fixed cost of one ONNX Runtime run, in padded tokens: fitted at warm-up (time = overhead + cost per token × tokens); each worker cuts its runs to spend the fewest padded tokens plus overheads. When the warm-up could not measure it (a heavy model): runRows × the model\'s token limit, above any padding, so a batch runs in as few runs as its limits allow' },
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

const adminErrors = { 401: { $ref: 'Error#' }, 403: { $ref: 'Error#' } } as const;

const latency = { type: 'number', nullable: true } as const;

/** What shadow scoring reports (core/shadow.ts ShadowReport). */
const shadowReport = {
  type: 'object',
  required: ['active'],
  properties: {
    active: { type: 'boolean', description: 'A candidate is loaded and scores a sample of the live texts' },
    candidate: { ...modelSummary, required: [...modelSummary.required, 'path'], properties: { ...modelSummary.properties, path: { type: 'string' } } },
    live: { ...modelSummary, description: 'The live model compared against (a swapped-in live model starts a new comparison)' },
    sampleRate: { type: 'number' },
    compared: { type: 'integer', description: 'Live texts scored by both models' },
    agreement: { type: 'number', nullable: true, description: 'Share of the compared texts given the same label by both, 0 to 1 (null before the first, and for a regression)' },
    confusion: {
      type: 'object',
      description: 'Compared texts by the candidate\'s label (outer key), then the live model\'s (inner key)',
      additionalProperties: { type: 'object', additionalProperties: { type: 'number' } },
    },
    meanAbsoluteDifference: { type: 'number', nullable: true, description: 'Regression heads: mean |candidate value − live value|' },
    latencyMs: {
      type: 'object',
      description: 'Worker time per compared text (its share of its batch), ms, for each model',
      properties: { live: latency, candidate: latency },
    },
    skipped: {
      type: 'object',
      description: 'Sampled live texts the candidate did not score: live_busy (the live queue was not empty), shadow_full (its own queue was full)',
      properties: { live_busy: { type: 'integer' }, shadow_full: { type: 'integer' } },
    },
  },
} as const;

export const shadowPostRouteSchema = {
  summary: 'Load a shadow candidate model and show it a sample of the live texts (admin key)',
  description: 'The model at `model_path` is loaded with workers of its own (SHADOW_WORKERS), checked like a reload (same labels and head, a test prediction), and replaces any other candidate. It scores a `sample_rate` share (default SHADOW_SAMPLE_RATE) of the texts the live model computes, after their answers are sent, only while the live queue is empty: answers never wait for it nor change. Promote it with the reload (write its files to MODEL_PATH, POST /api/admin/reload).',
  tags: ['operations'],
  security: [{ bearer: [] }, { apiKey: [] }],
  body: {
    type: 'object',
    required: ['model_path'],
    additionalProperties: false,
    properties: {
      model_path: { type: 'string', minLength: 1, description: 'A model directory (model.onnx, tokenizer.json, config.json) on the server, or its model.onnx' },
      sample_rate: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'Share of the live texts to score too (default SHADOW_SAMPLE_RATE)' },
    },
    examples: [{ model_path: '/models/candidate', sample_rate: 0.2 }],
  },
  response: { 200: shadowReport, ...adminErrors, 400: { $ref: 'Error#' }, 409: { $ref: 'Error#' }, 422: { $ref: 'Error#' } },
} as const;

export const shadowGetRouteSchema = {
  summary: 'How the shadow candidate compares with the live model on live texts (admin key)',
  tags: ['operations'],
  security: [{ bearer: [] }, { apiKey: [] }],
  response: { 200: shadowReport, ...adminErrors },
} as const;

export const shadowDeleteRouteSchema = {
  summary: 'Drop the shadow candidate (admin key); answers its last report',
  tags: ['operations'],
  security: [{ bearer: [] }, { apiKey: [] }],
  response: { 200: shadowReport, ...adminErrors },
} as const;
