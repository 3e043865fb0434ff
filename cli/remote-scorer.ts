// Remote scoring (--url): the records go to a running service through POST /api/predict/stream (undici),
// one NDJSON line per record, and its answer lines come back in the same order. The request body is
// produced as the server reads it (the server stops reading while its window is full), so the records
// held here — sent and not yet answered — stay few whatever the input's size.
//
// A refusal before the stream starts (503: queue full, draining; 429: rate limited) is retried after its
// Retry-After: the records already taken from the input are still held and are sent again first. So is a
// stream that ends early: a SHUTTING_DOWN line, or the connection lost (a replica closing its socket while
// this side still writes the body answers EPIPE, and the line saying why may be lost with it).
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { HeadShape, RestPrediction as Prediction } from '../core/rest-prediction.js';
import type { LineFailure } from '../bulk/stream-input.js';
import type { InputRecord } from './inputs.js';
import type { Scored } from './outputs.js';

export interface RemoteOptions {
  url: string;
  apiKey: string | undefined;
  signal: AbortSignal;
  /** Attempts in all when the service answers 503 or 429, or a stream ends early (default 10). */
  attempts?: number;
  /** Called before each retry, with why (e.g. "the service answered 503") and the wait. */
  onRetry?(reason: string, seconds: number): void;
}

/** Lines sent in one write of the request body, at most. */
const LINES_PER_WRITE = 64;
/**
 * Lines sent and not yet answered, at most. The service bounds its own memory anyway; this bound is for
 * proxies. NGINX's HTTP proxy sends the rest of a request body only when the client sends more once the
 * answer has begun (its upstream write handler is then a no-op): a client that has sent its whole body
 * while NGINX still holds part of it waits forever. Staying this close to the answers keeps what NGINX
 * holds within the socket buffers, so it never has to wait for the replica.
 */
const MAX_AHEAD = 1024;
/** A write goes out once the input has paused this long, even if short (a slow producer on stdin). */
const WRITE_PAUSE_MS = 5;

function authHeaders(apiKey: string | undefined): Record<string, string> {
  return apiKey === undefined || apiKey === '' ? {} : { authorization: `Bearer ${apiKey}` };
}

/** The labels and head of the model a service serves (its /api/model). */
export async function remoteModel(url: string, apiKey: string | undefined, options: Pick<RemoteOptions, 'attempts' | 'onRetry' | 'signal'>): Promise<HeadShape> {
  for (let attempt = 1; ; attempt++) {
    const response = await request(new URL('/api/model', url), { headers: authHeaders(apiKey), signal: options.signal });
    const body = await response.body.text();
    const retry = attempt < (options.attempts ?? 10) ? refusal(response) : undefined;
    if (retry !== undefined) {
      options.onRetry?.(retry.reason, retry.seconds);
      await sleep(retry.seconds * 1000, undefined, { signal: options.signal });
      continue;
    }
    if (response.statusCode !== 200) throw new Error(`GET /api/model answered ${response.statusCode}: ${body}`);
    const { labels, problemType } = JSON.parse(body) as HeadShape;
    return { labels, problemType };
  }
}

/** Socket errors that mean the connection went away (the replica closed, crashed or was replaced), not a refusal. */
const CONNECTION_LOST = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

function connectionLost(error: unknown): string | undefined {
  for (let e = error as { code?: string; message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code !== undefined && CONNECTION_LOST.has(e.code)) return e.message ?? e.code;
  }
  return undefined;
}

/** Why to try again after `response`, and when: a 503 (queue full, draining) or 429 (rate limited) after its Retry-After. */
function refusal(response: { statusCode: number; headers: Record<string, string | string[] | undefined> }): Retry | undefined {
  if (response.statusCode !== 503 && response.statusCode !== 429) return undefined;
  return { reason: `the service answered ${response.statusCode}`, seconds: Math.max(0, Number(response.headers['retry-after']) || 1) };
}

interface Retry {
  reason: string;
  seconds: number;
}

/** Records taken from the input and not yet answered, by absolute position, so that a retry sends them again. */
class Held {
  #items: InputRecord[] = [];
  #head = 0;
  /** Absolute position of the first held record. */
  start = 0;
  get end(): number { return this.start + this.#items.length - this.#head; }
  at(position: number): InputRecord { return this.#items[this.#head + position - this.start]!; }
  push(record: InputRecord): void { this.#items.push(record); }
  shift(): InputRecord | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const record = this.#items[this.#head++];
    this.start++;
    if (this.#head >= 4096 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return record;
  }
}

export async function* scoreRemotely(records: AsyncIterable<InputRecord>, options: RemoteOptions): AsyncGenerator<Scored[]> {
  const source = records[Symbol.asyncIterator]();
  const held = new Held();
  let sourceDone = false;
  let pulling: Promise<void> | undefined;
  const pull = () => {
    pulling ??= source.next().then((next) => {
      if (next.done) sourceDone = true;
      else held.push(next.value);
    }).finally(() => { pulling = undefined; });
    return pulling;
  };
  let attempt = 0;
  let answered: (() => void) | undefined;

  // The request body of one attempt: what is held from the first unanswered record on, then the input.
  async function* body(mine: number): AsyncGenerator<string> {
    let position = held.start;
    while (attempt === mine) {
      while (position - held.start >= MAX_AHEAD && attempt === mine) await new Promise<void>((resolve) => { answered = resolve; });
      let text = '';
      let lines = 0;
      let paused: Promise<boolean> | undefined; // one timer per write, not per line
      while (lines < LINES_PER_WRITE && position + lines - held.start < MAX_AHEAD && !sourceDone) {
        if (position + lines < held.end) {
          text += `${held.at(position + lines).wire}\n`;
          lines++;
          continue;
        }
        const next = pull();
        if (lines > 0) {
          paused ??= sleep(WRITE_PAUSE_MS).then(() => true);
          if (await Promise.race([next.then(() => false), paused])) break;
        }
        await next;
      }
      while (position + lines < held.end && lines < LINES_PER_WRITE && position + lines - held.start < MAX_AHEAD) text += `${held.at(position + lines++).wire}\n`;
      if (lines === 0) return;
      position += lines;
      yield text;
    }
  }

  const attempts = options.attempts ?? 10;
  for (;;) {
    const mine = ++attempt;
    // Why this attempt ended early and is to be sent again, with the wait first; undefined: it finished.
    let retry: Retry | undefined;
    let response: Awaited<ReturnType<typeof request>> | undefined;
    try {
      response = await request(new URL('/api/predict/stream', options.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson', ...authHeaders(options.apiKey) },
        body: Readable.from(body(mine), { objectMode: false }),
        signal: options.signal,
        // A stream's answer may pause while the service is busy with others; the input decides its length.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      if (mine < attempts) retry = refusal(response);
      if (retry === undefined && response.statusCode !== 200) {
        throw new Error(`POST /api/predict/stream answered ${response.statusCode}: ${(await response.body.text()).slice(0, 500)}`);
      }
      if (retry === undefined) {
        const end = yield* answerRuns(response.body, held, () => answered?.());
        retry = end.retry;
        if (!retry && (end.partial || held.end > held.start || !sourceDone)) {
          throw new Error(`the service's answer ended after ${held.start} records, before the input's end`);
        }
      }
    } catch (error) {
      const lost = options.signal.aborted ? undefined : connectionLost(error);
      if (lost === undefined) throw error;
      retry = { reason: `the connection to the service was lost (${lost})`, seconds: 1 };
    }
    if (!retry) return;
    if (mine >= attempts) throw new Error(`${retry.reason}, and ${attempts} attempts are spent`);
    attempt++; // stops this attempt's body
    answered?.();
    await response?.body.dump().catch(() => undefined);
    options.onRetry?.(retry.reason, retry.seconds);
    await sleep(retry.seconds * 1000, undefined, { signal: options.signal });
  }
}

/**
 * The answer lines of one attempt, as runs of scored records taken from `held` in order. Ends with the retry a
 * SHUTTING_DOWN line asks for (this record and the ones after it were not scored: they are sent again, after
 * Retry-After, on a new request, which a load balancer gives to another replica), and whether a partial line
 * was left.
 */
async function* answerRuns(body: AsyncIterable<unknown>, held: Held, answered: () => void): AsyncGenerator<Scored[], { retry?: Retry; partial: boolean }> {
  let rest = '';
  for await (const chunk of body) {
    const lines = (rest + (chunk as Buffer).toString('utf8')).split('\n');
    rest = lines.pop()!;
    if (lines.length === 0) continue;
    const run: Scored[] = [];
    let retry: Retry | undefined;
    for (const line of lines) {
      const answer = JSON.parse(line) as Answer;
      if ('error' in answer && answer.error.code === 'SHUTTING_DOWN') {
        retry = { reason: 'the service answered 503 (SHUTTING_DOWN)', seconds: 1 };
        break;
      }
      const record = held.shift();
      if (record === undefined) throw new Error('the service answered more lines than were sent');
      run.push(scoredFrom(record, answer));
    }
    answered();
    if (run.length > 0) yield run;
    if (retry) return { retry, partial: false };
  }
  return { partial: rest !== '' };
}

type Answer = (Prediction & { id?: unknown }) | { line: number; error: LineFailure };

function scoredFrom(record: InputRecord, answer: Answer): Scored {
  if ('error' in answer) return { record, error: answer.error };
  const { label, score, scores, truncated } = answer;
  return { record, prediction: { label, score, scores, truncated } };
}
