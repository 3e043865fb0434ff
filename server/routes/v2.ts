// The Open Inference Protocol (V2) REST routes: health, server and model metadata, model readiness and
// inference, with and without /versions/{version}. Thin: tensors are mapped by server/protocols/v2.ts, texts
// checked by core/text-checks.ts, and inference is the one predictor's (same queue, cache, limits, metrics
// as /api/predict). Health and readiness are open like /api/health; metadata and inference take the same
// access (API keys, rate limit) as /api/predict.
import type { FastifyPluginAsync } from 'fastify';
import type { Predictor } from '../../core/predictor.js';
import {
  V2_INPUT, modelNotFound, v2InferResponse, v2Model, v2ModelMetadata, v2RequestedOutputs, v2ServerMetadata, v2Texts, v2Truncation, type V2InferRequest,
} from '../protocols/v2.js';
import {
  v2InferRouteSchema, v2LiveRouteSchema, v2ModelMetadataRouteSchema, v2ModelReadyRouteSchema, v2ReadyRouteSchema, v2ServerMetadataRouteSchema,
} from '../protocols/v2-schemas.js';
import type { RouteAccess } from './access.js';
import { predictForReply } from './prediction-reply.js';
import { guarded, open } from './protocol-access.js';

export interface V2RoutesOptions {
  predictor: Predictor;
  access: RouteAccess;
  /** Server metadata: the service's name and version (package.json). */
  serverName: string;
  version: string;
}

interface ModelParams { name: string; version?: string }

export const v2Routes: FastifyPluginAsync<V2RoutesOptions> = async (app, { predictor, access, serverName, version }) => {
  const readiness = () => {
    const state = predictor.readiness();
    const reason = state.ready ? (app.isUnderPressure() ? 'under pressure' : undefined) : state.reason ?? 'not ready';
    // Not ready is a failure, which the protocol writes as {"error": ...}; `ready` says it as its probes read it.
    return reason === undefined ? { ready: true } : { ready: false, error: `not ready: ${reason}` };
  };

  app.get('/v2/health/live', open('v2', v2LiveRouteSchema), async () => ({ live: true }));
  app.get('/v2/health/ready', open('v2', v2ReadyRouteSchema), async (_request, reply) => {
    const state = readiness();
    return reply.code(state.ready ? 200 : 503).send(state);
  });

  for (const path of ['/v2', '/v2/']) {
    app.get(path, guarded(access, 'v2', v2ServerMetadataRouteSchema), async () => v2ServerMetadata(serverName, version));
  }

  for (const versioned of [false, true]) {
    const prefix = versioned ? '/v2/models/:name/versions/:version' : '/v2/models/:name';

    app.get<{ Params: ModelParams }>(prefix, guarded(access, 'v2', v2ModelMetadataRouteSchema(versioned)), async (request) =>
      v2ModelMetadata(v2Model(predictor.model, request.params.name, request.params.version)));

    app.get<{ Params: ModelParams }>(`${prefix}/ready`, open('v2', v2ModelReadyRouteSchema(versioned)), async (request, reply) => {
      const model = v2Model(predictor.model, request.params.name, request.params.version);
      const state = readiness();
      return reply.code(state.ready ? 200 : 503).send({ name: model.name, ...state });
    });

    app.post<{ Params: ModelParams; Body: V2InferRequest }>(`${prefix}/infer`, guarded(access, 'v2', v2InferRouteSchema(versioned)), async (request, reply) => {
      const started = performance.now();
      const { name, version: wanted } = request.params;
      const served = v2Model(predictor.model, name, wanted);
      const texts = v2Texts(request.body);
      const outputs = v2RequestedOutputs(request.body, served);
      const truncation = v2Truncation(request.body.parameters);
      const where = (i: number) => `inputs[0].data[${i}]`;
      const set = await predictForReply(predictor, reply, texts, { truncation, name: where, listName: `input '${V2_INPUT}'` }, started);
      // A model swapped in while these texts waited answered them: a client that asked for the old version
      // by name must not get another version's answer under it.
      if (wanted !== undefined && set.model.version !== wanted) throw modelNotFound(`version '${wanted}' of model '${name}' was replaced by '${set.model.version}' during this request`);
      return v2InferResponse(set.model, set.results, outputs, request.body.id);
    });
  }
};
