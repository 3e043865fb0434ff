// 405 Method Not Allowed, with Allow, for a known path asked with a method it does not take (HTTP's answer,
// where a 404 would leave a client author unable to tell a mistyped path from a wrong method); unknown paths
// stay 404. Every route's path is recorded as it is declared (trackRoutes, before the routes); once all are
// declared, each path gets one hidden route for the methods it lacks (answerWrongMethods), which throws
// METHOD_NOT_ALLOWED through the one error handler, in the error shape of the path's protocol.
import type { FastifyInstance } from 'fastify';
import { HttpError } from './http-errors.js';
import type { ErrorFormat } from './error-renderers.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Marks the routes answerWrongMethods adds, so that they are not recorded as the path's own. */
    methodNotAllowed?: true;
  }
}

/** The methods a wrong-method request is answered for; others are left to Fastify (404). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** A path's protocols' error formats (none: the service's). */
type PathFormats = Set<ErrorFormat>;

export class MethodNotAllowedError extends HttpError {
  constructor(method: string, path: string, allow: string) {
    super('METHOD_NOT_ALLOWED', `${path} does not take ${method}; it takes ${allow}`);
  }
}

/** Records every route's path and error format as it is declared. Call before any route. */
export function trackRoutes(app: FastifyInstance): Map<string, PathFormats> {
  const paths = new Map<string, PathFormats>();
  app.addHook('onRoute', (route) => {
    // A catch-all (@fastify/cors's OPTIONS *) is no path of its own: it would make every path "known".
    if (route.config?.methodNotAllowed === true || route.url === '*' || route.url === '/*') return;
    const formats = paths.get(route.url) ?? new Set<ErrorFormat>();
    if (route.config?.errorFormat !== undefined) formats.add(route.config.errorFormat);
    paths.set(route.url, formats);
  });
  return paths;
}

/**
 * Adds, for each recorded path, a route taking the methods it lacks that answers 405 with `Allow`. With
 * `preflights` on (CORS), OPTIONS is answered by the CORS plugin and listed in Allow instead. Call once every
 * other route is declared.
 */
export function answerWrongMethods(app: FastifyInstance, paths: Map<string, PathFormats>, { preflights }: { preflights: boolean }): void {
  for (const [url, formats] of paths) {
    // The router, not the hook, says which methods a path takes: Fastify adds some routes without telling
    // onRoute (GET of a plugin prefix's trailing-slash twin, /docs/).
    const allowed = new Set<string>(METHODS.filter((method) => app.hasRoute({ url, method })));
    if (preflights) allowed.add('OPTIONS');
    const allow = METHODS.filter((method) => allowed.has(method)).join(', ');
    const missing = METHODS.filter((method) => !allowed.has(method));
    if (missing.length === 0) continue;
    // A path shared by a protocol and the service (GET / and TEI's POST /) answers in the protocol's shape.
    const [errorFormat] = formats;
    app.route({
      method: [...missing],
      url,
      schema: { hide: true },
      config: { methodNotAllowed: true, ...(errorFormat !== undefined ? { errorFormat } : {}) },
      // Refused before the body is read: the method is wrong whatever the body holds.
      onRequest: (request, reply, done) => {
        void reply.header('allow', allow);
        done(new MethodNotAllowedError(request.method, request.url.split('?')[0]!, allow));
      },
      handler: async () => undefined,
    });
  }
}
