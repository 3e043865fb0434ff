// POST /hf/text-classification: the Hugging Face Inference API's text-classification task, so that the
// Hugging Face clients work unchanged with `endpointUrl` = this route's URL (@huggingface/inference's
// textClassification, huggingface_hub's InferenceClient(model=URL).text_classification). Errors are TEI's
// {error, error_type}: those clients read `error`. Thin: one predictor.predict call like /api/predict.
import type { FastifyPluginAsync } from 'fastify';
import type { Predictor } from '../../core/predictor.js';
import { hfClassification, hfTexts, type HfTextClassificationRequest } from '../protocols/hf.js';
import { hfTextClassificationRouteSchema } from '../protocols/tei-schemas.js';
import type { RouteAccess } from './access.js';
import { predictForReply } from './prediction-reply.js';
import { guarded } from './protocol-access.js';

export const HF_TEXT_CLASSIFICATION_PATH = '/hf/text-classification';

export interface HfRoutesOptions {
  predictor: Predictor;
  access: RouteAccess;
}

export const hfRoutes: FastifyPluginAsync<HfRoutesOptions> = async (app, { predictor, access }) => {
  app.post<{ Body: HfTextClassificationRequest }>(HF_TEXT_CLASSIFICATION_PATH, guarded(access, 'tei', hfTextClassificationRouteSchema), async (request, reply) => {
    const started = performance.now();
    const { inputs, parameters } = request.body;
    const name = typeof inputs === 'string' ? () => 'inputs' : (i: number) => `inputs[${i}]`;
    // Long texts are cut at their end, as on /api/predict (the Inference API has no truncation parameter).
    const set = await predictForReply(predictor, reply, hfTexts(inputs), { name, listName: 'inputs' }, started);
    return set.results.map((result) => hfClassification(set.model, result, parameters));
  });
};
