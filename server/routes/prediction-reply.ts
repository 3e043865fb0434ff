// What every prediction route of every protocol does around the core: the deadline and the client-gone
// signal it gives the predictor, and the timing and version headers it sends back.
import type { FastifyReply } from 'fastify';
import type { PredictOptions, PredictionSet } from '../../core/predictor.js';

/**
 * Reads as aborted once the client has closed its connection, so that its texts leave the queue. The
 * batcher reads it when it looks at the queue: no AbortController or listener per request.
 */
export function clientGone(reply: FastifyReply): { readonly aborted: boolean } {
  const socket = reply.raw.socket;
  return { get aborted() { return socket === null || socket.destroyed; } };
}

/** The predictor options of a request: its deadline (from predictor.deadline()) and the client-gone signal. */
export function predictOptions(reply: FastifyReply, deadline: number, extra: Omit<PredictOptions, 'deadline' | 'signal'> = {}): PredictOptions {
  return { deadline, signal: clientGone(reply), ...extra };
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
