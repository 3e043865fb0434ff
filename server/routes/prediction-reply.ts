// What every prediction route of every protocol does around the core, in one helper: the deadline counted
// from the request's start, the client-gone signal, the predictor's call (which checks the texts), and the
// timing and version headers of the answer.
import type { FastifyReply } from 'fastify';
import type { PredictOptions, PredictionSet, Predictor } from '../../core/predictor.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Texts a prediction request was answered for (per-key usage, counted once it is answered). */
    textsAnswered: number | undefined;
  }
}

/**
 * Reads as aborted once the client has closed its connection, so that its texts leave the queue. The
 * batcher reads it when it looks at the queue: no AbortController or listener per request.
 */
export function clientGone(reply: FastifyReply): { readonly aborted: boolean } {
  const socket = reply.raw.socket;
  return { get aborted() { return socket === null || socket.destroyed; } };
}

/** The stage timings (ms), the model version and whether the cache answered, as response headers. */
export function setPredictionHeaders(reply: FastifyReply, set: PredictionSet, startedAt: number): void {
  void reply.headers({
    'x-queue-time': set.timings.queueMs.toFixed(3),
    'x-inference-time': set.timings.inferenceMs.toFixed(3),
    'x-total-time': (performance.now() - startedAt).toFixed(3),
    'x-model-version': set.model.version,
    'x-cache': set.cacheHits === 0 ? 'miss' : set.cacheHits === set.results.length ? 'hit' : 'partial',
  });
}

/**
 * Predicts `texts` for a request of any protocol: REQUEST_TIMEOUT_MS from `startedAt` (when the handler
 * began), dropped if the client leaves; the answer's headers are set before it returns.
 */
export async function predictForReply(
  predictor: Predictor, reply: FastifyReply, texts: string[], options: Omit<PredictOptions, 'deadline' | 'signal'> = {},
  startedAt = performance.now(),
): Promise<PredictionSet> {
  const set = await predictor.predict(texts, { ...options, deadline: predictor.deadline(startedAt), signal: clientGone(reply) });
  setPredictionHeaders(reply, set, startedAt);
  reply.request.textsAnswered = set.results.length;
  return set;
}
