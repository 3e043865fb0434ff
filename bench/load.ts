// One load against one URL (autocannon; at one connection, bench/sequential-load.ts): real tweets in a seeded
// random order, the configured single/batch mix, every response body checked, progress on stderr. Returns
// what the results files hold.
import autocannon from 'autocannon';
import { runSequentialLoad } from './sequential-load.js';
import { AnswerTally, ProgressLine } from './load-tally.js';
import { CallSource, type CallKind, type Mix } from './tweets.js';
import type { CallContext } from './validate.js';

export interface LoadOptions {
  /** Base URL (http://127.0.0.1:PORT): the calls go to /api/predict and /api/predict/batch under it. */
  url: string;
  connections: number;
  durationS: number;
  texts: readonly string[];
  mix: Mix;
  /** The model's labels, to check every prediction against; undefined checks the shape only. */
  labels?: readonly string[];
  seed?: number;
  /** Seconds before a request counts as a timeout (autocannon's default 10). */
  timeoutS?: number;
  /** Shown in the progress lines. */
  name?: string;
  /** Progress on stderr (default true). */
  progress?: boolean;
  /** Fraction of the calls sent as TEI /predict, V2 infer or HF task calls instead of /api/predict* (default 0). */
  protocolShare?: number;
  /** Sent as Accept-Encoding with every call (none by default): what compression costs the server. */
  acceptEncoding?: string | undefined;
  /** The /api/predict* calls ask for explanations (`explain: true`). */
  explain?: boolean;
}

export interface LoadStats {
  connections: number;
  durationS: number;
  /** Responses received (any status). */
  requests: number;
  /** Responses received per second. */
  requestsPerSecond: number;
  /** 2xx responses per second. */
  okPerSecond: number;
  /** Texts predicted (in 2xx answers) per second: equals okPerSecond when every call is a single text. */
  textsPerSecond: number;
  /** Milliseconds, from autocannon's histogram (whole ms) or, at one connection, of every 2xx response to the microsecond. */
  latency: { mean: number; p50: number; p90: number; p99: number; max: number };
  /** Connection errors, timeouts included (autocannon's `errors`). */
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  /** 2xx answers whose body is not a valid prediction for what was sent. */
  invalid: number;
  /** A few examples of invalid or non-2xx answers. */
  problems: string[];
  /** Valid 2xx answers by protocol (all 'api' unless protocolShare > 0). */
  validByKind?: Record<CallKind, number>;
}

/**
 * Runs the load: autocannon, except at one connection, where bench/sequential-load.ts times each request to
 * the microsecond (autocannon's latencies are whole milliseconds).
 */
export async function runLoad(options: LoadOptions): Promise<LoadStats> {
  if (options.connections === 1) return runSequentialLoad(options);
  const source = new CallSource(options.texts, options.mix, options.seed ?? 1, options.protocolShare ?? 0, options.explain ?? false);
  const tally = new AnswerTally(options.labels);

  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationS,
    timeout: options.timeoutS ?? 10,
    title: options.name,
    requests: [{
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(options.acceptEncoding !== undefined ? { 'accept-encoding': options.acceptEncoding } : {}) },
      setupRequest(request, context: CallContext) {
        const call = source.next();
        context.texts = call.texts;
        context.batch = call.batch;
        context.kind = call.kind;
        return { ...request, path: call.path, body: call.body };
      },
      onResponse(status, body, context: CallContext) {
        tally.response(status, body, context);
      },
    }],
  });

  const progress = new ProgressLine(options.name ?? options.url, options.connections, options.durationS, options.progress ?? true);
  instance.on('tick', ({ counter }: { counter: number }) => progress.tick(counter, tally.invalid));
  const result = await instance;
  progress.done();

  const requests = Object.values(result.statusCodeStats).reduce((sum, { count }) => sum + count, 0);
  const duration = result.duration > 0 ? result.duration : options.durationS;
  return {
    connections: options.connections,
    durationS: duration,
    requests,
    requestsPerSecond: requests / duration,
    okPerSecond: result['2xx'] / duration,
    textsPerSecond: tally.textsOk / duration,
    latency: {
      mean: result.latency.mean,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count])),
    invalid: tally.invalid,
    problems: tally.problems,
    validByKind: tally.validByKind,
  };
}
