// Route schemas of the Open Inference Protocol (V2) routes, after the components of
// open_inference_rest.yaml. Tensor contents (datatype, shape against data, names) are checked by
// server/protocols/v2.ts with messages in the protocol's terms; texts by core/text-checks.ts.
import { timingHeaders } from '../schemas.js';

export const v2ErrorSchema = {
  type: 'object',
  description: 'The protocol\'s error object: `error` is the message.',
  required: ['error'],
  properties: { error: { type: 'string' } },
} as const;

// 401 and 429 are added by server/routes/protocol-access.ts when API keys and the rate limit are on.
const v2Errors = { 400: v2ErrorSchema, 404: v2ErrorSchema, 413: v2ErrorSchema, 503: v2ErrorSchema, 504: v2ErrorSchema } as const;

const parameters = {
  type: 'object',
  description: 'Name/value pairs (string, number or boolean)',
  additionalProperties: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
} as const;

const metadataTensor = {
  type: 'object',
  required: ['name', 'datatype', 'shape'],
  properties: { name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } } },
} as const;

const modelParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', description: 'The served model\'s name, or the alias "sentiment"' } },
} as const;

const versionParams = {
  type: 'object',
  required: ['name', 'version'],
  properties: { ...modelParams.properties, version: { type: 'string', description: 'The served version: the first 12 hex digits of the model file\'s sha256 (x-model-version)' } },
} as const;

export function v2Params(versioned: boolean) {
  return versioned ? versionParams : modelParams;
}

export const v2LiveRouteSchema = {
  summary: 'V2 server live: the process answers',
  tags: ['v2'],
  response: { 200: { type: 'object', required: ['live'], properties: { live: { type: 'boolean' } } } },
} as const;

const readiness = { type: 'object', required: ['ready'], properties: { ready: { type: 'boolean' }, error: { type: 'string', description: 'Why not ready (503)' } } } as const;

export const v2ReadyRouteSchema = {
  summary: 'V2 server ready: the model is loaded and the queue is not saturated (503 otherwise)',
  tags: ['v2'],
  response: { 200: readiness, 503: readiness },
} as const;

export const v2ServerMetadataRouteSchema = {
  summary: 'V2 server metadata',
  tags: ['v2'],
  response: {
    200: { type: 'object', required: ['name', 'version', 'extensions'], properties: { name: { type: 'string' }, version: { type: 'string' }, extensions: { type: 'array', items: { type: 'string' } } } },
    ...v2Errors,
  },
} as const;

export function v2ModelMetadataRouteSchema(versioned: boolean) {
  return {
    summary: `V2 model metadata${versioned ? ' of a version' : ''}: inputs, outputs, versions`,
    tags: ['v2'],
    params: v2Params(versioned),
    response: {
      200: {
        type: 'object',
        required: ['name', 'platform'],
        properties: {
          name: { type: 'string' },
          versions: { type: 'array', items: { type: 'string' } },
          platform: { type: 'string' },
          inputs: { type: 'array', items: metadataTensor },
          outputs: { type: 'array', items: metadataTensor },
          properties: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
      ...v2Errors,
    },
  };
}

export function v2ModelReadyRouteSchema(versioned: boolean) {
  const body = { type: 'object', required: ['name', 'ready'], properties: { name: { type: 'string' }, ready: { type: 'boolean' }, error: { type: 'string', description: 'Why not ready (503)' } } } as const;
  return {
    summary: `V2 model ready${versioned ? ' (a version)' : ''}`,
    tags: ['v2'],
    params: v2Params(versioned),
    response: { 200: body, 503: body, 404: v2ErrorSchema },
  };
}

export function v2InferRouteSchema(versioned: boolean) {
  return {
    summary: `V2 inference${versioned ? ' on a version' : ''}: input "text" (BYTES [n] or [n, 1]) → label, probabilities, logits`,
    description: 'Outputs: `label` BYTES [n], `probabilities` FP32 [n, labels] (softmax; a sigmoid per label for a multi-label model), `logits` FP32 [n, labels], columns in the order of the model\'s labels (model metadata `properties.labels`); a regression model has `value` FP32 [n, outputs] and `logits` instead (model metadata `properties.problem_type` says which). `outputs` selects and orders them (default: all). `id` is echoed. Parameter `truncation`: right (default), left, or none (413 for a text longer than the model reads).',
    tags: ['v2'],
    params: v2Params(versioned),
    body: {
      type: 'object',
      required: ['inputs'],
      additionalProperties: false,
      properties: {
        id: { type: 'string' },
        parameters,
        inputs: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['name', 'shape', 'datatype', 'data'],
            additionalProperties: false,
            properties: {
              name: { type: 'string' },
              shape: { type: 'array', items: { type: 'integer', minimum: 0 } },
              datatype: { type: 'string' },
              parameters,
              data: { type: 'array' },
            },
          },
        },
        outputs: {
          type: 'array',
          items: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string' }, parameters } },
        },
      },
      examples: [{ id: '42', inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: ['what a great game', 'worst service ever'] }], outputs: [{ name: 'label' }, { name: 'probabilities' }] }],
    },
    response: {
      200: {
        type: 'object',
        headers: timingHeaders,
        required: ['model_name', 'outputs'],
        properties: {
          model_name: { type: 'string' },
          model_version: { type: 'string' },
          id: { type: 'string' },
          outputs: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'shape', 'datatype', 'data'],
              properties: { name: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } }, datatype: { type: 'string' }, data: { type: 'array' } },
            },
          },
        },
      },
      ...v2Errors,
    },
  };
}
