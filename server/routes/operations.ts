// Liveness, readiness and the model description: what load balancers, orchestrators and operators ask. They
// read the core's model description and readiness, never the worker pool.
import type { FastifyPluginAsync } from 'fastify';
import type { Predictor } from '../../core/predictor.js';
import { healthRouteSchema, modelRouteSchema, readyRouteSchema, withAccess } from '../schemas.js';
import type { RouteAccess } from './access.js';

export interface OperationsRoutesOptions {
  predictor: Predictor;
  /** Who may read /api/model; health and readiness stay open to balancers and orchestrators. */
  access: RouteAccess;
}

export const operationsRoutes: FastifyPluginAsync<OperationsRoutesOptions> = async (app, { predictor, access }) => {
  // The original Flask app's exact response: monitors written for it keep working.
  app.get('/api/health', { schema: healthRouteSchema }, async () => ({ status: 'healthy', message: 'API is running' }));

  app.get('/api/ready', { schema: readyRouteSchema }, async (_request, reply) => {
    const { reason: coreReason, queueDepth, maxQueue } = predictor.readiness();
    const reason = coreReason ?? (app.isUnderPressure() ? 'under pressure' : undefined);
    if (reason !== undefined) return reply.code(503).send({ status: 'not ready', reason, queueDepth, maxQueue });
    return { status: 'ready', queueDepth, maxQueue };
  });

  app.get('/api/model', { ...access, schema: withAccess(modelRouteSchema, access) }, async () => {
    const model = predictor.model;
    return { ...model, loadedAt: model.loadedAt.toISOString() };
  });
};
