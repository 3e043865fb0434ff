// Hugging Face Text Embeddings Inference's routes for a sequence classifier, at TEI's own paths: POST /predict
// (and POST /, as TEI routes it for a classifier), GET /health, GET /info, POST /tokenize, POST /decode. Thin:
// TEI's objects are mapped by server/protocols/tei.ts, texts checked by core/text-checks.ts, and the work is the
// one predictor's (same queue, cache, limits and metrics as /api/predict). GET / belongs to the playground.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { HttpError } from '../http-errors.js';
import type { Predictor } from '../../core/predictor.js';
import {
  teiDecode, teiDecodeSequences, teiInfo, teiPredictResponse, teiPredictTexts, teiTextField, teiTokens, teiTruncation, type TeiPredictRequest,
} from '../protocols/tei.js';
import {
  teiDecodeRouteSchema, teiHealthRouteSchema, teiInfoRouteSchema, teiPredictRouteSchema, teiTokenizeRouteSchema,
} from '../protocols/tei-schemas.js';
import type { RouteAccess } from './access.js';
import { predictForReply } from './prediction-reply.js';
import { guarded, open } from './protocol-access.js';

export interface TeiRoutesOptions {
  predictor: Predictor;
  access: RouteAccess;
  /** The service's version (package.json), TEI's Info.version. */
  version: string;
}

interface TokenizeBody { inputs: string | string[]; add_special_tokens?: boolean; prompt_name?: string | null }
interface DecodeBody { ids: number[] | number[][]; skip_special_tokens?: boolean }

export const teiRoutes: FastifyPluginAsync<TeiRoutesOptions> = async (app, { predictor, access, version }) => {
  const predict = async (body: TeiPredictRequest, reply: FastifyReply) => {
    const started = performance.now();
    const { texts, batch } = teiPredictTexts(body.inputs);
    const truncation = teiTruncation(body.truncate, body.truncation_direction);
    const set = await predictForReply(predictor, reply, texts, { truncation, name: teiTextField(batch), listName: 'inputs' }, started);
    return teiPredictResponse(set.model.labels, set.results, batch, body.raw_scores === true);
  };

  app.post<{ Body: TeiPredictRequest }>('/predict', guarded(access, 'tei', teiPredictRouteSchema), (request, reply) => predict(request.body, reply));
  app.post<{ Body: TeiPredictRequest }>('/', guarded(access, 'tei', {
    ...teiPredictRouteSchema, summary: 'TEI POST /: the same as POST /predict (TEI routes / to predict for a classifier)',
  }), (request, reply) => predict(request.body, reply));

  // TEI's health check: an empty 200, or 503 with an ErrorResponse (error_type Unhealthy) and Retry-After.
  app.get('/health', open('tei', teiHealthRouteSchema), async (_request, reply) => {
    const readiness = predictor.readiness();
    const reason = !readiness.ready ? readiness.reason ?? 'not ready' : app.isUnderPressure() ? 'under pressure' : undefined;
    if (reason !== undefined) throw new HttpError('NOT_READY', `unhealthy: ${reason}`);
    return reply.code(200).send();
  });

  app.get('/info', guarded(access, 'tei', teiInfoRouteSchema), async () => teiInfo(predictor.model, predictor.limits, version));

  app.post<{ Body: TokenizeBody }>('/tokenize', guarded(access, 'tei', teiTokenizeRouteSchema), async (request) => {
    const { inputs, add_special_tokens: addSpecialTokens = true, prompt_name: promptName } = request.body;
    if (promptName !== undefined && promptName !== null) throw new HttpError('UNSUPPORTED_INPUT', 'prompt_name: this model has no prompts; leave it out');
    const texts = typeof inputs === 'string' ? [inputs] : inputs;
    const name = typeof inputs === 'string' ? () => 'inputs' : (i: number) => `inputs[${i}]`;
    return teiTokens(await predictor.tokenize(texts, { addSpecialTokens, name, listName: 'inputs' }));
  });

  app.post<{ Body: DecodeBody }>('/decode', guarded(access, 'tei', teiDecodeRouteSchema), async (request) => {
    const sequences = teiDecodeSequences(request.body.ids);
    const skipSpecialTokens = request.body.skip_special_tokens ?? true;
    return teiDecode(sequences, (ids) => predictor.decode(ids, { skipSpecialTokens, listName: 'ids' }));
  });
};
