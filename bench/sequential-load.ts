// The load of one connection: one request at a time over one keep-alive connection (undici), each timed to
// the microsecond. autocannon records latencies in whole milliseconds, which cannot tell whether the service
// adds 0.3 or 0.9 ms to a raw inference of under a millisecond; at one connection nothing else is measured,
// so this client takes autocannon's place there (runLoad). The calls, the checks of every answer and the
// figures returned are the same as autocannon's.
import { performance } from 'node:perf_hooks';
import { Client, errors as undiciErrors } from 'undici';
import type { LoadOptions, LoadStats } from './load.js';
import { AnswerTally, ProgressLine } from './load-tally.js';
import { percentile } from './percentile.js';
import { CallSource } from './tweets.js';

const microseconds = (ms: number): number => Math.round(ms * 1000) / 1000;

export async function runSequentialLoad(options: LoadOptions): Promise<LoadStats> {
  const source = new CallSource(options.texts, options.mix, options.seed ?? 1, options.protocolShare ?? 0, options.explain ?? false);
  const tally = new AnswerTally(options.labels);
  const timeoutMs = (options.timeoutS ?? 10) * 1000;
  const client = new Client(options.url, { pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const headers = { 'content-type': 'application/json', ...(options.acceptEncoding !== undefined ? { 'accept-encoding': options.acceptEncoding } : {}) };
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let requests = 0;
  let ok = 0;
  let errors = 0;
  let timeouts = 0;
  let thisSecond = 0;

  const progress = new ProgressLine(options.name ?? options.url, 1, options.durationS, options.progress ?? true);
  const ticker = setInterval(() => {
    progress.tick(thisSecond, tally.invalid);
    thisSecond = 0;
  }, 1000);
  const started = performance.now();
  const deadline = started + options.durationS * 1000;
  try {
    while (performance.now() < deadline) {
      const call = source.next();
      const sent = performance.now();
      try {
        const response = await client.request({ method: 'POST', path: call.path, headers, body: call.body });
        const body = await response.body.text();
        const ms = performance.now() - sent;
        requests++;
        thisSecond++;
        statusCodes[response.statusCode] = (statusCodes[response.statusCode] ?? 0) + 1;
        if (response.statusCode >= 200 && response.statusCode < 300) {
          ok++;
          latencies.push(ms);
        }
        tally.response(response.statusCode, body, { texts: call.texts, batch: call.batch, kind: call.kind });
      } catch (error) {
        // As autocannon counts them: every failed request is an error, and a timeout is also a timeout.
        errors++;
        if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) timeouts++;
      }
    }
  } finally {
    clearInterval(ticker);
    progress.done();
    await client.close().catch(() => client.destroy());
  }
  const duration = Math.round(performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const mean = latencies.length > 0 ? latencies.reduce((sum, ms) => sum + ms, 0) / latencies.length : 0;
  // As autocannon reports a load that got no answer: zeros.
  const at = (p: number) => (latencies.length > 0 ? microseconds(percentile(latencies, p)) : 0);
  return {
    connections: 1,
    durationS: duration,
    requests,
    requestsPerSecond: requests / duration,
    okPerSecond: ok / duration,
    textsPerSecond: tally.textsOk / duration,
    latency: {
      mean: microseconds(mean),
      p50: at(50),
      p90: at(90),
      p99: at(99),
      max: microseconds(latencies.at(-1) ?? 0),
    },
    errors,
    timeouts,
    non2xx: requests - ok,
    statusCodes,
    invalid: tally.invalid,
    problems: tally.problems,
    validByKind: tally.validByKind,
  };
}
