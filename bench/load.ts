// One autocannon load against one URL: real tweets in a seeded random order, the configured single/batch
// mix, every response body checked, progress on stderr. Returns what the results files hold.
import autocannon from 'autocannon';
import { CallSource, type CallKind, type Mix } from './tweets.js';
import { listResponseProblem, responseProblem, v2ResponseProblem } from './validate.js';

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
  /** Milliseconds, from autocannon's histogram of 2xx responses. */
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

interface CallContext extends Record<string, unknown> {
  texts?: number;
  batch?: boolean;
  kind?: CallKind;
}

/** Why a 2xx body is not a valid answer to the call, whatever its protocol. */
function callProblem(body: string, context: CallContext, labels: readonly string[] | undefined): string | undefined {
  const texts = context.texts ?? 1;
  switch (context.kind) {
    case 'tei': return listResponseProblem(body, texts, context.batch === true, labels);
    case 'hf': return listResponseProblem(body, texts, context.batch === true, labels, true);
    case 'v2': return v2ResponseProblem(body, texts, labels);
    case 'api':
    case undefined:
    default: return responseProblem(body, context.batch ? texts : undefined, labels);
  }
}

export async function runLoad(options: LoadOptions): Promise<LoadStats> {
  const source = new CallSource(options.texts, options.mix, options.seed ?? 1, options.protocolShare ?? 0, options.explain ?? false);
  let invalid = 0;
  let textsOk = 0;
  const validByKind: Record<CallKind, number> = { api: 0, tei: 0, v2: 0, hf: 0 };
  const problems: string[] = [];
  const note = (problem: string) => { if (problems.length < 5) problems.push(problem); };

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
        if (status >= 200 && status < 300) {
          const problem = callProblem(body, context, options.labels);
          if (problem === undefined) { textsOk += context.texts ?? 1; validByKind[context.kind ?? 'api']++; }
          else { invalid++; note(`${status}: ${problem}`); }
        } else {
          note(`${status}: ${body.slice(0, 200)}`);
        }
      },
    }],
  });

  const show = options.progress ?? true;
  const label = options.name ?? options.url;
  let second = 0;
  let lastLine = 0;
  const isTty = process.stderr.isTTY === true;
  instance.on('tick', ({ counter }: { counter: number }) => {
    second++;
    if (!show || second > options.durationS) return;
    const line = `  ${label}  c=${options.connections}  ${second}/${options.durationS} s  ${counter.toLocaleString('en-US')} req/s  invalid ${invalid}`;
    if (isTty) process.stderr.write(`\r${line.padEnd(lastLine)}`);
    else if (second % 5 === 0 || second === options.durationS) process.stderr.write(`${line}\n`);
    lastLine = line.length;
  });

  const result = await instance;
  if (show && isTty) process.stderr.write('\n');

  const requests = Object.values(result.statusCodeStats).reduce((sum, { count }) => sum + count, 0);
  const duration = result.duration > 0 ? result.duration : options.durationS;
  return {
    connections: options.connections,
    durationS: duration,
    requests,
    requestsPerSecond: requests / duration,
    okPerSecond: result['2xx'] / duration,
    textsPerSecond: textsOk / duration,
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
    invalid,
    problems,
    validByKind,
  };
}
