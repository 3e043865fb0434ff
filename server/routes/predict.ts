// POST /api/predict and /api/predict/batch: this service's own REST shape over the core. Validation is the
// schemas' (server/schemas.ts), then the predictor's own text checks; the work is the predictor's.
import type { FastifyPluginAsync } from 'fastify';
import type { Predictor } from '../../core/predictor.js';
import { restPrediction } from '../../core/rest-prediction.js';
import { predictBatchRouteSchema, predictRouteSchema, withAccess } from '../schemas.js';
import type { RouteAccess } from './access.js';
import { predictForReply } from './prediction-reply.js';

export interface PredictRoutesOptions {
  predictor: Predictor;
  access: RouteAccess;
}

export const predictRoutes: FastifyPluginAsync<PredictRoutesOptions> = async (app, { predictor, access }) => {
  const { limits } = predictor;

  app.post<{ Body: { text: string; explain?: boolean } }>('/api/predict', { ...access, schema: withAccess(predictRouteSchema(limits.maxTextChars, limits.explainMaxWords), access) }, async (request, reply) => {
    const set = await predictForReply(predictor, reply, [request.body.text], { name: () => 'text', explain: request.body.explain === true });
    return restPrediction(set.model, set.results[0]!, set.explanations?.[0]);
  });

  app.post<{ Body: { texts: string[]; explain?: boolean } }>('/api/predict/batch', { ...access, schema: withAccess(predictBatchRouteSchema(limits.maxTextChars, limits.maxClientBatch, limits.explainMaxWords), access) }, async (request, reply) => {
    const set = await predictForReply(predictor, reply, request.body.texts, { explain: request.body.explain === true });
    return { predictions: set.results.map((result, i) => restPrediction(set.model, result, set.explanations?.[i])) };
  });
};
