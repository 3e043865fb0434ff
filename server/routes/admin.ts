// The admin API: POST /api/admin/reload swaps in the model now at MODEL_PATH (core/model-reloader.ts);
// POST, GET and DELETE /api/admin/shadow load, report on and drop a shadow candidate model (core/shadow.ts).
import type { FastifyPluginAsync } from 'fastify';
import type { ModelReloader } from '../../core/model-reloader.js';
import type { ShadowScorer } from '../../core/shadow.js';
import { reloadRouteSchema, shadowDeleteRouteSchema, shadowGetRouteSchema, shadowPostRouteSchema } from '../schemas.js';
import type { RouteAccess } from './access.js';

export interface AdminRoutesOptions {
  reloader: ModelReloader;
  shadow: ShadowScorer;
  /** SHADOW_SAMPLE_RATE: a candidate's share of the live texts when the request names none. */
  sampleRate: number;
  access: RouteAccess;
}

export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (app, { reloader, shadow, sampleRate, access }) => {
  app.post('/api/admin/reload', { ...access, schema: reloadRouteSchema }, async () => reloader.reload());

  app.post<{ Body: { model_path: string; sample_rate?: number } }>('/api/admin/shadow', { ...access, schema: shadowPostRouteSchema }, async (request) =>
    shadow.start(request.body.model_path, request.body.sample_rate ?? sampleRate));
  app.get('/api/admin/shadow', { ...access, schema: shadowGetRouteSchema }, async () => shadow.report());
  app.delete('/api/admin/shadow', { ...access, schema: shadowDeleteRouteSchema }, async () => shadow.stop());
};
