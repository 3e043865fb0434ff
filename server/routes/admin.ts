// The admin API: POST /api/admin/reload swaps in the model now at MODEL_PATH (core/model-reloader.ts).
import type { FastifyPluginAsync } from 'fastify';
import type { ModelReloader } from '../../core/model-reloader.js';
import { reloadRouteSchema } from '../schemas.js';
import type { RouteAccess } from './access.js';

export interface AdminRoutesOptions {
  reloader: ModelReloader;
  access: RouteAccess;
}

export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (app, { reloader, access }) => {
  app.post('/api/admin/reload', { ...access, schema: reloadRouteSchema }, async () => reloader.reload());
};
