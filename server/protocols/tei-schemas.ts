// Route schemas of the TEI-compatible routes and of the Hugging Face task route, after the TEI OpenAPI
// document's components (PredictRequest, PredictResponse, Info, TokenizeRequest, ...). They check types and
// shapes only: text contents, lengths and counts are checked once for every route by core/text-checks.ts, so
// the limits (MAX_TEXT_CHARS, MAX_CLIENT_BATCH) and their 413s are the same everywhere.
import { PROBLEM_TYPES } from '../../inference/model-head.js';
import { timingHeaders } from '../schemas.js';

export const teiErrorSchema = {
  type: 'object',
  description: 'TEI ErrorResponse: `error` says what went wrong; `error_type` is TEI\'s ErrorType.',
  required: ['error', 'error_type'],
  properties: {
    error: { type: 'string' },
    error_type: { type: 'string', enum: ['Unhealthy', 'Backend', 'Overloaded', 'Validation', 'Tokenizer', 'Empty'] },
  },
} as const;

// 401 and 429 are added by server/routes/protocol-access.ts when API keys and the rate limit are on.
const teiErrors = { 400: teiErrorSchema, 413: teiErrorSchema, 422: teiErrorSchema, 503: teiErrorSchema, 504: teiErrorSchema } as const;

const predictionSchema = {
  type: 'object',
  required: ['label', 'score'],
  properties: { label: { type: 'string' }, score: { type: 'number' } },
} as const;

const text = { type: 'string', description: 'A text (MAX_TEXT_CHARS characters at most, not only whitespace)' } as const;
/** `inputs` of /tokenize and of the Hugging Face task route: one text or a list of texts. */
const textOrTexts = { oneOf: [text, { type: 'array', minItems: 1, items: text }] } as const;

export const teiPredictRouteSchema = {
  summary: 'TEI /predict: the sentiment of a text or of a batch of texts, every label with its score, highest first',
  description: 'Hugging Face Text Embeddings Inference\'s predict route. A pair of texts (for cross-encoders) is refused with 422: this model reads single texts. With `truncate` false (the default), a text longer than the model reads is refused with 413; with `truncate` true it is cut at the `truncation_direction` end.',
  tags: ['tei'],
  body: {
    type: 'object',
    required: ['inputs'],
    additionalProperties: false,
    properties: {
      inputs: {
        oneOf: [
          { ...text, description: 'A single text' },
          { type: 'array', minItems: 1, items: text, description: 'A pair of texts: refused (422), this model reads single texts' },
          { type: 'array', minItems: 1, items: { type: 'array', minItems: 1, items: text }, description: 'A batch: a list of one-text lists (MAX_CLIENT_BATCH at most)' },
        ],
      },
      raw_scores: { type: 'boolean', description: 'The logits instead of the head\'s scores (softmax probabilities; a sigmoid probability per label for a multi-label model; a regression\'s values, which are its logits)' },
      truncate: { type: 'boolean', nullable: true, description: 'Cut a text longer than the model reads instead of refusing it (413); default false' },
      truncation_direction: { type: 'string', enum: ['Left', 'Right', 'left', 'right'], description: 'Which end to cut; default Right' },
    },
    examples: [{ inputs: 'I love this new phone!' }, { inputs: [['what a great game'], ['the meeting moved to 3pm']], raw_scores: false }],
  },
  response: {
    200: {
      description: 'PredictResponse: a list of {label, score} for a single text, a list of such lists for a batch',
      headers: timingHeaders,
      anyOf: [
        { type: 'array', items: predictionSchema },
        { type: 'array', items: { type: 'array', items: predictionSchema } },
      ],
    },
    ...teiErrors,
  },
};

export const teiHealthRouteSchema = {
  summary: 'TEI /health: 200 with an empty body when the model is loaded and the queue not saturated, else 503',
  tags: ['tei'],
  response: { 200: { description: 'Healthy (empty body)', type: 'null' }, 503: teiErrorSchema },
} as const;

export const teiInfoRouteSchema = {
  summary: 'TEI /info: the served model and the server\'s limits',
  tags: ['tei'],
  response: {
    200: {
      type: 'object',
      required: ['model_id', 'model_dtype', 'served_model_name', 'model_type', 'max_concurrent_requests', 'max_input_length', 'max_batch_tokens', 'max_client_batch_size', 'auto_truncate', 'tokenization_workers', 'version'],
      properties: {
        model_id: { type: 'string' },
        model_sha: { type: 'string', nullable: true, description: 'sha256 of the ONNX file' },
        model_dtype: { type: 'string' },
        model_type: {
          type: 'object',
          required: ['classifier'],
          properties: {
            classifier: {
              type: 'object',
              required: ['id2label', 'label2id'],
              properties: {
                id2label: { type: 'object', additionalProperties: { type: 'string' } },
                label2id: { type: 'object', additionalProperties: { type: 'integer' } },
                problem_type: { type: 'string', enum: [...PROBLEM_TYPES], description: 'What the scores mean (config.json problem_type; not in TEI): a softmax, a sigmoid per label (multi-label), or the raw values (regression)' },
              },
            },
          },
        },
        max_concurrent_requests: { type: 'integer', description: 'MAX_QUEUE' },
        max_input_length: { type: 'integer', description: 'Tokens the model reads (MAX_TOKENS)' },
        max_batch_tokens: { type: 'integer', description: 'MAX_BATCH_TOKENS' },
        max_batch_requests: { type: 'integer', nullable: true, description: 'MAX_BATCH_SIZE' },
        max_client_batch_size: { type: 'integer', description: 'MAX_CLIENT_BATCH' },
        auto_truncate: { type: 'boolean' },
        tokenization_workers: { type: 'integer' },
        version: { type: 'string' },
        served_model_name: { type: 'string' },
        text_preprocessing: { type: 'array', items: { type: 'string' }, description: 'Text normalization applied to every text before the model reads it, declared by the model (config.json text_preprocessing; not in TEI)' },
      },
    },
    503: teiErrorSchema,
  },
} as const;

const simpleToken = {
  type: 'object',
  required: ['id', 'text', 'special'],
  properties: {
    id: { type: 'integer' },
    text: { type: 'string' },
    special: { type: 'boolean' },
    start: { type: 'integer', nullable: true },
    stop: { type: 'integer', nullable: true },
  },
} as const;

export const teiTokenizeRouteSchema = {
  summary: 'TEI /tokenize: the model\'s tokens of each text',
  tags: ['tei'],
  body: {
    type: 'object',
    required: ['inputs'],
    additionalProperties: false,
    properties: {
      inputs: textOrTexts,
      add_special_tokens: { type: 'boolean', description: 'Default true' },
      prompt_name: { type: 'string', nullable: true, description: 'Not supported (this model has no prompts): must be null or absent' },
    },
    examples: [{ inputs: 'I love this new phone!' }],
  },
  response: { 200: { type: 'array', items: { type: 'array', items: simpleToken } }, ...teiErrors },
};

/** TEI's InputIds element: an int32 id, never negative. */
const tokenId = { type: 'integer', minimum: 0, maximum: 2_147_483_647 } as const;

export const teiDecodeRouteSchema = {
  summary: 'TEI /decode: the text of token ids',
  tags: ['tei'],
  body: {
    type: 'object',
    required: ['ids'],
    additionalProperties: false,
    properties: {
      ids: {
        oneOf: [
          { type: 'array', items: tokenId },
          { type: 'array', minItems: 1, items: { type: 'array', items: tokenId } },
        ],
      },
      skip_special_tokens: { type: 'boolean', description: 'Default true' },
    },
    examples: [{ ids: [101, 1045, 2293, 2023, 102] }],
  },
  response: { 200: { type: 'array', items: { type: 'string' } }, ...teiErrors },
};

export const hfTextClassificationRouteSchema = {
  summary: 'Hugging Face Inference API text-classification task: the endpointUrl of @huggingface/inference textClassification',
  description: 'Takes `{inputs, parameters}` as the Hugging Face clients send it; answers one list of {label, score} per input, highest first. `function_to_apply` is softmax, sigmoid or none (logits); its default is the model head\'s, as in transformers\' pipeline: softmax for single-label, sigmoid for multi-label, none for a regression. `top_k` keeps that many labels.',
  tags: ['hf'],
  body: {
    type: 'object',
    required: ['inputs'],
    additionalProperties: false,
    properties: {
      inputs: textOrTexts,
      parameters: {
        type: 'object',
        additionalProperties: false,
        properties: {
          top_k: { type: 'integer', minimum: 1 },
          function_to_apply: { type: 'string', enum: ['softmax', 'sigmoid', 'none'] },
        },
      },
    },
    examples: [{ inputs: 'I love this new phone!', parameters: { top_k: 2 } }],
  },
  response: { 200: { type: 'array', items: { type: 'array', items: predictionSchema }, headers: timingHeaders }, ...teiErrors },
};
