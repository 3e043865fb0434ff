// The one place where an error becomes a response: { statusCode, code, error, message }, with the status
// from server/errors.ts, Retry-After on 503s, and no stack trace or internal detail for unexpected errors.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_TABLE, NotFoundError, TextTooLongError, TooManyTextsError, statusForCode } from '../core/errors.js';

export interface ErrorHandlerOptions {
  maxTextChars: number;
  maxClientBatch: number;
  /** Seconds a client should wait before retrying a 503. */
  retryAfterSeconds(): number;
}

export function installErrorHandler(app: FastifyInstance, options: ErrorHandlerOptions): void {
  app.setNotFoundHandler((request, reply) => {
    void sendError(request, reply, new NotFoundError(request.method, request.url.split('?')[0]!));
  });
  app.setErrorHandler((error: FastifyError, request, reply) => sendError(request, reply, toServiceError(error, request.body, options), options));
}

/** Validation failures that the API promises as 413 rather than 400. */
function toServiceError(error: FastifyError, body: unknown, options: ErrorHandlerOptions): FastifyError {
  if (error.code !== 'FST_ERR_VALIDATION' || !error.validation) return error;
  for (const issue of error.validation) {
    // instancePath is a JSON pointer into the body: /text or /texts/3
    const path = issue.instancePath.split('/').slice(1);
    const value = path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], body);
    if (issue.keyword === 'maxLength') {
      const length = typeof value === 'string' ? [...value].length : options.maxTextChars + 1;
      return new TextTooLongError(path.join('.') || 'text', length, options.maxTextChars);
    }
    if (issue.keyword === 'maxItems') {
      return new TooManyTextsError(Array.isArray(value) ? value.length : options.maxClientBatch + 1, options.maxClientBatch);
    }
  }
  return error;
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: FastifyError, options?: ErrorHandlerOptions) {
  const code = typeof error.code === 'string' ? error.code : undefined;
  let statusCode = statusForCode(code) ?? error.statusCode ?? 500;
  if (statusCode < 400 || statusCode > 599) statusCode = 500;
  const known = code !== undefined && (code in ERROR_TABLE || code.startsWith('FST_'));
  if (statusCode >= 500 && !known) {
    // Unexpected: log everything, tell the client nothing that reveals internals.
    request.log.error({ err: error }, 'unexpected error');
    return reply.code(500).send({ statusCode: 500, code: 'INTERNAL_ERROR', error: STATUS_CODES[500], message: 'Internal Server Error' });
  }
  if (statusCode >= 500) request.log.warn({ code, message: error.message }, 'request failed');
  if (statusCode === 503) {
    const retryAfter = (error as { retryAfterSeconds?: number }).retryAfterSeconds ?? options?.retryAfterSeconds() ?? 1;
    void reply.header('retry-after', String(retryAfter));
  }
  return reply.code(statusCode).send({
    statusCode,
    code: code ?? 'INTERNAL_ERROR',
    error: STATUS_CODES[statusCode] ?? 'Error',
    message: error.message,
  });
}
