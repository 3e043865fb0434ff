// Request ids: every request gets one, and every response says it (the x-request-id header), so that a
// failed call can be matched to the service's log line (requestId) and to NGINX's access log (request_id).
// A client's or NGINX's own X-Request-ID is kept when it is a sane token; anything else gets a fresh id.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * What is kept of a caller's id: the same rule as NGINX's (nginx.conf, map $http_x_request_id), so that an
 * id passes both or neither. Bounded, because it is logged and echoed; no spaces, quotes or control
 * characters, because it is written into log lines, headers and JSON bodies as it is.
 */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id (Fastify's genReqId): the caller's when it is safe, else a random UUID. */
export function requestId(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Echoes the id on every response. An onRequest hook, registered before the plugins that may answer early
 * (CORS preflights, shedding under pressure, keys, rate limit), so that those answers, errors and streams
 * carry it too: headers set here survive into whatever the request ends with.
 */
export const echoRequestId = fp(async (app: FastifyInstance) => {
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
}, { name: 'request-id' });
