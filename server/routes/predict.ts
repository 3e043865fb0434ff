// POST /api/predict and /api/predict/batch: validation is the schemas' (server/schemas.ts) plus the few text
// checks a schema cannot say clearly; the work is the predictor's.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { RouteAccess } from './access.js';
import { InvalidTextError } from '../../core/errors.js';
import type { Predictor, PredictionOutcome } from '../../core/predictor.js';
import { predictBatchRouteSchema, predictRouteSchema } from '../schemas.js';

export interface PredictRoutesOptions {
  predictor: Predictor;
  maxTextChars: number;
  maxClientBatch: number;
  requestTimeoutMs: number;
  access: RouteAccess;
}

export const predictRoutes: FastifyPluginAsync<PredictRoutesOptions> = async (app, options) => {
  const { predictor, requestTimeoutMs, access } = options;

  const run = async (texts: string[], field: string, reply: FastifyReply): Promise<PredictionOutcome> => {
    const started = performance.now();
    texts.forEach((text, i) => checkText(text, texts.length === 1 && field === 'text' ? 'text' : `${field}.${i}`));
    const outcome = await predictor.predict(texts, { deadline: started + requestTimeoutMs, signal: clientGone(reply) });
    void reply.headers({
      'x-queue-time': outcome.timings.queueMs.toFixed(3),
      'x-inference-time': outcome.timings.inferenceMs.toFixed(3),
      'x-total-time': (performance.now() - started).toFixed(3),
      'x-model-version': outcome.model.version,
      'x-cache': outcome.cacheHits === 0 ? 'miss' : outcome.cacheHits === texts.length ? 'hit' : 'partial',
    });
    return outcome;
  };

  app.post<{ Body: { text: string } }>('/api/predict', { ...access, schema: predictRouteSchema(options.maxTextChars) }, async (request, reply) => {
    const outcome = await run([request.body.text], 'text', reply);
    return outcome.predictions[0];
  });

  app.post<{ Body: { texts: string[] } }>('/api/predict/batch', { ...access, schema: predictBatchRouteSchema(options.maxTextChars, options.maxClientBatch) }, async (request, reply) => {
    const outcome = await run(request.body.texts, 'texts', reply);
    return { predictions: outcome.predictions };
  });
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What a JSON schema cannot say clearly: only whitespace, a NUL, a lone UTF-16 surrogate (from "\ud800"). */
function checkText(text: string, where: string): void {
  if (!/\S/.test(text)) throw new InvalidTextError(`${where} is only whitespace`);
  if (text.includes('\0')) throw new InvalidTextError(`${where} holds a NUL character`);
  if (LONE_SURROGATE.test(text)) throw new InvalidTextError(`${where} holds a lone UTF-16 surrogate (invalid Unicode)`);
}

/**
 * Reads as aborted once the client has closed its connection, so that its texts leave the queue. The
 * batcher reads it when it looks at the queue: no AbortController or listener per request.
 */
function clientGone(reply: FastifyReply): { readonly aborted: boolean } {
  const socket = reply.raw.socket;
  return { get aborted() { return socket === null || socket.destroyed; } };
}
