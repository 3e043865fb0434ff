// POST /api/predict/stream: NDJSON in, NDJSON out, one answer per input line, in input order, streamed as
// the answers come. A thin adapter: lines are cut by bulk/ndjson-lines.ts, read as /api/predict bodies by
// bulk/stream-input.ts and scored by bulk/ordered-scorer.ts over the one predictor (one queue, one set of
// limits); access (API key, rate limit: one stream is one request) is the other prediction routes'.
//
// The body is never buffered: the application/x-ndjson parser hands the raw request stream to the handler,
// so Fastify's bodyLimit does not apply to the stream as a whole (a million tweets are ~100 MB). It applies
// to each line instead, as each line is one /api/predict body. Memory is bounded by the stream's window:
// lines are read only while fewer than `window` of its texts are in the predictor, and answers are produced
// only as fast as the client reads them (Readable.from pulls on demand), so a slow reader stops the reading.
import { Readable } from 'node:stream';
import createError from '@fastify/error';
import type { FastifyPluginAsync } from 'fastify';
import type { RouteAccess } from './access.js';
import type { Predictor } from '../../core/predictor.js';
import { readLines, type RawLine } from '../../bulk/ndjson-lines.js';
import { DEFAULT_CHUNK, DEFAULT_WINDOW, scoreInOrder, type ScoreInput, type ScoreOutput } from '../../bulk/ordered-scorer.js';
import { parseStreamLine, type LineId } from '../../bulk/stream-input.js';
import { errorResponses, withAccess } from '../schemas.js';
import { restPrediction } from '../../core/rest-prediction.js';
import { clientGone } from './prediction-reply.js';

export interface PredictStreamRoutesOptions {
  predictor: Predictor;
  /** BODY_LIMIT: the longest line, in bytes. */
  bodyLimit: number;
  access: RouteAccess;
  /** Most texts of one stream in the predictor at once (default: 256, at most a quarter of MAX_QUEUE). */
  window?: number;
}

export const NDJSON = 'application/x-ndjson';

const QueryValidationError = createError<[string]>('FST_ERR_VALIDATION', '%s', 400);
const NotNdjsonError = createError<[string]>('FST_ERR_CTP_INVALID_MEDIA_TYPE', 'Unsupported Media Type: %s; this route reads application/x-ndjson', 415);

interface LineMeta {
  line: number;
  id: LineId | undefined;
}

export const predictStreamRoutes: FastifyPluginAsync<PredictStreamRoutesOptions> = async (app, options) => {
  const { predictor, bodyLimit, access } = options;
  // The stream's share of the queue: well below MAX_QUEUE, so that interactive callers always find room; and
  // it adds texts only while fewer than two chunks (of anyone's) wait, so it fills what the workers would
  // leave idle rather than queueing ahead of the callers that come next.
  const window = options.window ?? Math.max(1, Math.min(DEFAULT_WINDOW, Math.floor(predictor.limits.maxQueue / 4)));
  const chunk = Math.min(DEFAULT_CHUNK, window);

  // Closing the service (SIGTERM, shutdown) must not wait for the rest of every stream's body, which may be
  // long or stalled: each stream stops reading, answers what it has read, and ends with a SHUTTING_DOWN line
  // naming the first line it did not read, from which a client sends again (the CLI does, to any replica).
  let closing = false;
  const onClose = new Set<() => void>();
  app.addHook('preClose', (done) => {
    closing = true;
    for (const stop of onClose) stop();
    onClose.clear();
    done();
  });

  // Encapsulated in this plugin: no other route reads NDJSON. No parseAs: Fastify reads nothing itself.
  app.addContentTypeParser(NDJSON, (_request, payload, done) => done(null, payload));

  app.post<{ Querystring: { on_error?: 'continue' | 'stop' } }>('/api/predict/stream', {
    ...access,
    schema: withAccess(streamRouteSchema(bodyLimit, window), access),
    // The body schema documents the NDJSON body (a string) for OpenAPI; what the handler gets is the request
    // stream, checked line by line. Fastify validates the body before the query string, so the body's
    // (expected) failure is attached and set aside, and the one query parameter is checked here.
    attachValidation: true,
  }, async (request, reply) => {
    const onError = request.query.on_error ?? 'continue';
    if (onError !== 'continue' && onError !== 'stop') throw new QueryValidationError('querystring/on_error must be equal to one of the allowed values (continue, stop)');
    const stopAtFirstError = onError === 'stop';
    const body = request.body;
    // Any other content type was parsed by its own parser: this route reads NDJSON only.
    if (!(body instanceof Readable)) throw new NotNdjsonError(String(request.headers['content-type']));
    const stop = new StopSwitch();
    const stopIt = () => stop.stop();
    if (closing) stopIt();
    else onClose.add(stopIt);
    reply.raw.once('close', () => onClose.delete(stopIt));
    // Stopped by the shutdown: the connection ends with the answer (FIN after the last line, then closed), so
    // that the drain does not wait for it to idle out (keepAliveTimeout, 75 s) with the rest of the body unread.
    const socket = request.raw.socket; // the response lets go of it once finished
    reply.raw.once('finish', () => {
      if (!stop.stopped) return;
      socket.end();
      // A client that keeps its side open (a proxy's pooled connection) gets a second to read the end.
      setTimeout(() => socket.destroy(), 1_000).unref();
    });
    const inputs = linesAsInputs(readLines(body, bodyLimit), bodyLimit, stop);
    const outputs = scoreInOrder(predictor, inputs, { window, chunk, signal: clientGone(reply), queueRoom: () => predictor.queueDepth < 2 * chunk });
    void reply.type(NDJSON).header('x-model-version', predictor.model.version);
    request.textsAnswered = 0;
    return reply.send(Readable.from(render(outputs, stopAtFirstError, (texts) => { request.textsAnswered! += texts; }), { objectMode: false }));
  });
};

/**
 * Stops a stream's reading. A fresh promise per read, not one raced by every line: a long-lived promise
 * would keep one reaction per line until it settles (a million of them for a million lines).
 */
class StopSwitch {
  stopped = false;
  #wake: (() => void) | undefined;
  stop(): void {
    this.stopped = true;
    this.#wake?.();
  }
  next<T>(read: Promise<T>): Promise<T | 'stopped'> {
    if (this.stopped) return Promise.resolve('stopped');
    read.catch(() => undefined); // settled after a stop: nobody awaits it any more
    return Promise.race([read, new Promise<'stopped'>((resolve) => { this.#wake = () => resolve('stopped'); })]);
  }
}

async function* linesAsInputs(lines: AsyncIterable<RawLine>, maxLineBytes: number, stop: StopSwitch): AsyncGenerator<ScoreInput<LineMeta>> {
  const iterator = lines[Symbol.asyncIterator]();
  let line = 0;
  for (;;) {
    const next = stop.stopped ? 'stopped' : await stop.next(iterator.next());
    if (next === 'stopped') {
      // The body's rest stays unread (Node discards it); the line not read is named, not guessed at.
      void iterator.return?.()?.catch?.(() => undefined);
      const message = `the service is shutting down; lines from ${line + 1} on were not read: send them again`;
      yield { meta: { line: line + 1, id: undefined }, error: { code: 'SHUTTING_DOWN', message } };
      return;
    }
    if (next.done) return;
    const input = parseStreamLine(next.value, maxLineBytes);
    line = input.line;
    const meta = { line: input.line, id: input.id };
    yield 'error' in input ? { meta, error: input.error } : { meta, text: input.text, explain: input.explain };
  }
}

/**
 * One string per run of answers (one write, not one per line); with on_error=stop, ends after the first
 * error. A service that is shutting down ends every stream after the first SHUTTING_DOWN line: no later
 * line could be answered, and the drain must not wait for the rest of a long body.
 */
async function* render(outputs: AsyncGenerator<ScoreOutput<LineMeta>[]>, stopAtFirstError: boolean, answered: (texts: number) => void): AsyncGenerator<string> {
  for await (const run of outputs) {
    let text = '';
    let predictions = 0;
    for (const out of run) {
      text += `${JSON.stringify(answerLine(out))}\n`;
      if (out.result !== undefined) predictions++;
      if (out.error !== undefined && (stopAtFirstError || out.error.code === 'SHUTTING_DOWN')) {
        answered(predictions);
        yield text;
        return;
      }
    }
    answered(predictions);
    yield text;
  }
}

function answerLine(out: ScoreOutput<LineMeta>): Record<string, unknown> {
  const id = out.meta.id === undefined ? {} : { id: out.meta.id };
  if (out.error !== undefined) return { line: out.meta.line, ...id, error: out.error };
  return { ...id, ...restPrediction(out.model, out.result, out.explanation) };
}

function streamRouteSchema(bodyLimit: number, window: number) {
  return {
    summary: 'Predict the sentiment of many texts, streamed: NDJSON in, NDJSON out, in input order',
    description: [
      'The body is NDJSON: one JSON object per line, `{"text": "..."}` or `{"id": ..., "text": "..."}` (the id, a string or',
      'a number, is echoed back; `"explain": true` adds the line\'s explanation, as on POST /api/predict). The answer (`application/x-ndjson`) has one line per input line, in the same order, streamed as',
      'predictions come: the prediction of POST /api/predict (with the id), or `{"line": N, "id": ..., "error": {"code", "message"}}`',
      `with the code /api/predict would answer for that line as its body. There is no limit on the body's size; each line is`,
      `at most ${bodyLimit} bytes (BODY_LIMIT). At most ${window} texts of one stream wait in the queue at once: the body is read as`,
      'answers are read. `?on_error=stop` ends the answer after the first error line.',
    ].join(' '),
    tags: ['prediction'],
    consumes: [NDJSON],
    produces: [NDJSON],
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: {
        on_error: { type: 'string', enum: ['continue', 'stop'], default: 'continue', description: 'continue: an error line, then the next line; stop: end after the first error line' },
      },
    },
    body: {
      content: {
        [NDJSON]: { schema: { type: 'string', format: 'binary', description: 'NDJSON: one {"text": "...", "id"?: string | number, "explain"?: boolean} per line' } },
      },
    },
    response: {
      200: {
        description: 'NDJSON, one line per input line, in order',
        content: { [NDJSON]: { schema: { type: 'string', format: 'binary' } } },
      },
      ...errorResponses,
    },
  };
}
