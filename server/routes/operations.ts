// Liveness, readiness and the model description: what load balancers, orchestrators and operators ask.
import { basename } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { Predictor } from '../../core/predictor.js';
import type { RouteAccess } from './access.js';
import { healthRouteSchema, modelRouteSchema, readyRouteSchema } from '../schemas.js';

export interface OperationsRoutesOptions {
  predictor: Predictor;
  maxQueue: number;
  /** Who may read /api/model; health and readiness stay open to balancers and orchestrators. */
  access: RouteAccess;
}

export const operationsRoutes: FastifyPluginAsync<OperationsRoutesOptions> = async (app, { predictor, maxQueue, access }) => {
  // The seed's exact response: monitors written for it keep working.
  app.get('/api/health', { schema: healthRouteSchema }, async () => ({ status: 'healthy', message: 'API is running' }));

  app.get('/api/ready', { schema: readyRouteSchema }, async (_request, reply) => {
    const queueDepth = predictor.queueDepth;
    const reason = predictor.closed ? 'shutting down'
      : predictor.saturated ? 'queue saturated'
        : app.isUnderPressure() ? 'under pressure' : undefined;
    if (reason !== undefined) {
      return reply.code(503).send({ status: 'not ready', reason, queueDepth, maxQueue });
    }
    return { status: 'ready', queueDepth, maxQueue };
  });

  app.get('/api/model', { ...access, schema: modelRouteSchema }, async () => {
    const model = predictor.model;
    const { files } = model.pool;
    return {
      name: files.name,
      file: basename(files.onnxPath),
      labels: files.labels,
      maxTokens: files.maxTokens,
      device: model.pool.device,
      executionProviders: model.pool.description.providers,
      workers: model.pool.workers,
      intraOpThreads: model.pool.intraOpThreads,
      sha256: files.sha256,
      version: model.version,
      loadedAt: model.loadedAt.toISOString(),
    };
  });
};
