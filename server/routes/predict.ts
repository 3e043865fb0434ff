// POST /api/predict and /api/predict/batch: this service's own REST shape over the core. Validation is the
// schemas' (server/schemas.ts) plus the text checks of core/text-checks.ts; the work is the predictor's.
import type { FastifyPluginAsync } from 'fastify';
import type { Predictor, TextResult } from '../../core/predictor.js';
import { checkTexts } from '../../core/text-checks.js';
import { predictBatchRouteSchema, predictRouteSchema, withAccess } from '../schemas.js';
import type { RouteAccess } from './access.js';
import { predictOptions, setPredictionHeaders } from './prediction-reply.js';

export interface PredictRoutesOptions {
  predictor: Predictor;
  access: RouteAccess;
}

/** The REST body of one prediction: every label's probability, the most likely one, and truncation. */
export interface RestPrediction {
  label: string;
  score: number;
  scores: Record<string, number>;
  truncated: boolean;
}

export function restPrediction(labels: readonly string[], result: TextResult): RestPrediction {
  const scores: Record<string, number> = {};
  for (let k = 0; k < labels.length; k++) scores[labels[k]!] = result.probabilities[k]!;
  return { label: labels[result.labelIndex]!, score: result.probabilities[result.labelIndex]!, scores, truncated: result.truncated };
}

export const predictRoutes: FastifyPluginAsync<PredictRoutesOptions> = async (app, { predictor, access }) => {
  const { limits } = predictor;

  app.post<{ Body: { text: string } }>('/api/predict', { ...access, schema: withAccess(predictRouteSchema(limits.maxTextChars), access) }, async (request, reply) => {
    const started = performance.now();
    const texts = [request.body.text];
    checkTexts(texts, limits, () => 'text');
    const set = await predictor.predict(texts, predictOptions(reply, predictor.deadline(started), { name: () => 'text' }));
    setPredictionHeaders(reply, set, started);
    return restPrediction(set.model.labels, set.results[0]!);
  });

  app.post<{ Body: { texts: string[] } }>('/api/predict/batch', { ...access, schema: withAccess(predictBatchRouteSchema(limits.maxTextChars, limits.maxClientBatch), access) }, async (request, reply) => {
    const started = performance.now();
    const { texts } = request.body;
    checkTexts(texts, limits, (i) => `texts.${i}`);
    const set = await predictor.predict(texts, predictOptions(reply, predictor.deadline(started)));
    setPredictionHeaders(reply, set, started);
    return { predictions: set.results.map((result) => restPrediction(set.model.labels, result)) };
  });
};
