// The one place where an error becomes a response. It decides what the error is (status and code from
// server/http-errors.ts, which maps the core's kinds; Retry-After on 503s; no stack trace or internal detail
// for server faults) and lets the route's protocol write it (error-renderers.ts: route option
// `config.errorFormat`, default 'service').
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TextTooLongError, TooManyTextsError } from '../core/errors.js';
import { ERROR_RENDERERS, formatForPath, type ErrorFormat, type ErrorReport } from './error-renderers.js';
import { entryFor, notFound } from './http-errors.js';

export interface ErrorHandlerOptions {
  maxTextChars: number;
  maxClientBatch: number;
  /** Seconds a client should wait before retrying a 503. */
  retryAfterSeconds(): number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How this route writes its errors. */
    errorFormat?: ErrorFormat;
  }
}

export function installErrorHandler(app: FastifyInstance, options: ErrorHandlerOptions): void {
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    void send(reply, report(request, notFound(request.method, path), options), formatForPath(path));
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const format = request.routeOptions.config?.errorFormat ?? formatForPath(request.url.split('?')[0]!);
    return send(reply, report(request, toServiceError(error, request.body, options), options), format);
  });
}

/** Validation failures that the API promises as 413 rather than 400, named by the field that failed. */
function toServiceError(error: FastifyError, body: unknown, options: ErrorHandlerOptions): FastifyError {
  if (error.code !== 'FST_ERR_VALIDATION' || !error.validation) return error;
  for (const issue of error.validation) {
    // instancePath is a JSON pointer into the body: /text, /texts/3, /inputs/0/data
    const path = issue.instancePath.split('/').slice(1);
    const value = path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], body);
    const where = path.join('.') || 'text';
    if (issue.keyword === 'maxLength' && typeof value === 'string') {
      return new TextTooLongError(where, [...value].length, options.maxTextChars);
    }
    // Only a list of texts is "too many texts"; any other list that is too long stays a validation error.
    if (issue.keyword === 'maxItems' && isTextList(value)) {
      return new TooManyTextsError(where, (value as unknown[]).length, options.maxClientBatch);
    }
  }
  return error;
}

/** An array of texts, or of one-text lists (TEI's batch form). */
function isTextList(value: unknown): boolean {
  return Array.isArray(value) && value.every((item) => typeof item === 'string' || (Array.isArray(item) && item.every((inner) => typeof inner === 'string')));
}

interface Decided extends ErrorReport {
  retryAfterSeconds?: number;
}

function report(request: FastifyRequest, error: FastifyError & { retryAfterSeconds?: number }, options: ErrorHandlerOptions): Decided {
  const code = typeof error.code === 'string' ? error.code : undefined;
  const entry = entryFor(code);
  // Errors of Fastify and its plugins that are the client's fault keep their 4xx status.
  const clientStatus = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : undefined;
  const status = entry?.status ?? clientStatus;
  if (status === undefined) {
    // Unexpected: log everything, tell the client nothing that reveals internals.
    request.log.error({ err: error }, 'unexpected error');
    return { status: 500, code: 'INTERNAL_ERROR', message: 'Internal Server Error', requestId: request.id };
  }
  if (status >= 500) request.log.warn({ code, message: error.message }, 'request failed');
  // A fault of the service may carry a library's or the file system's words: clients get the table's words.
  const message = entry?.kind === 'internal' ? entry.description : error.message;
  const decided: Decided = { status, code: code ?? `HTTP_${status}`, message, requestId: request.id };
  if (status === 503) decided.retryAfterSeconds = error.retryAfterSeconds ?? options.retryAfterSeconds();
  return decided;
}

function send(reply: FastifyReply, decided: Decided, format: ErrorFormat) {
  if (decided.retryAfterSeconds !== undefined) void reply.header('retry-after', String(decided.retryAfterSeconds));
  return reply.code(decided.status).send(ERROR_RENDERERS[format](decided));
}
