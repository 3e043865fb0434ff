// GET /: a browser gets the playground page (server/playground/, read once at start); any other client gets
// Hugging Face TEI's health check (200 with an empty body while the model serves, 503 while shutting down),
// so that TEI clients and load balancers probing `/` keep working. The page and its assets are public (no
// API key); the predictions the page asks for go through /api/predict* and their keys and limits.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { PROJECT_ROOT } from '../../core/config.js';
import type { Predictor } from '../../core/predictor.js';

export interface PlaygroundRoutesOptions {
  predictor: Predictor;
  /** PLAYGROUND: off, GET / is the health check only and no asset is served. */
  enabled: boolean;
  /** The page sends batches of at most this many texts. */
  maxClientBatch: number;
}

/** Everything from this origin, nothing inline, nothing elsewhere: the page has no third-party code. */
export const PLAYGROUND_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const ASSETS = { 'app.js': 'text/javascript; charset=utf-8', 'style.css': 'text/css; charset=utf-8' } as const;

/** A browser navigating to the page asks for HTML first; curl, TEI clients and probes do not. */
function wantsHtml(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

export const playgroundRoutes: FastifyPluginAsync<PlaygroundRoutesOptions> = async (app, { predictor, enabled, maxClientBatch }) => {
  const dir = join(PROJECT_ROOT, 'server', 'playground');
  // Read once: the files are part of the release, and a request never touches the disk.
  const page = enabled
    ? readFileSync(join(dir, 'index.html'), 'utf8').replace('{{MAX_CLIENT_BATCH}}', String(maxClientBatch))
    : undefined;
  const secure = (reply: FastifyReply, type: string) => reply
    .type(type)
    .header('content-security-policy', PLAYGROUND_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    // Revalidated on every load: a new release's page never runs an old script.
    .header('cache-control', 'no-cache');

  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    if (page !== undefined && wantsHtml(request.headers.accept)) return secure(reply, 'text/html; charset=utf-8').send(page);
    // TEI's GET /health: an empty 200 while the model serves; the model is loaded before the server listens,
    // so only shutting down (as /api/ready reports it) makes it unhealthy.
    if (predictor.closed) {
      return reply.code(503).header('retry-after', '1').send({ error: 'the server is shutting down', error_type: 'Unhealthy' });
    }
    return reply.code(200).send();
  });

  if (!enabled) return;
  for (const [name, type] of Object.entries(ASSETS)) {
    const body = readFileSync(join(dir, name), 'utf8');
    app.get(`/playground/${name}`, { schema: { hide: true } }, async (_request, reply) => secure(reply, type).send(body));
  }
};
