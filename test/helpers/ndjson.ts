// POST /api/predict/stream from tests: a body produced on the fly (never held whole) and the answer read
// line by line as it arrives; and generated tweets, as many as a test wants, from the validation set.
import { Readable } from 'node:stream';
import { request } from 'undici';
import { validationTexts } from './data.js';

export interface StreamAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The answer's lines as they arrive (parsed JSON). */
  lines: AsyncGenerator<any>;
  /** Closes the connection now (a client that goes away). */
  destroy(): void;
}

/** Every line of an answer, once it has ended. */
export async function collect(lines: AsyncGenerator<any>): Promise<any[]> {
  const out: any[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

export async function postStream(url: string, body: AsyncIterable<string> | Iterable<string> | string, options: { query?: string; headers?: Record<string, string> } = {}): Promise<StreamAnswer> {
  const controller = new AbortController();
  const response = await request(`${url}/api/predict/stream${options.query ?? ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', ...options.headers },
    body: typeof body === 'string' ? body : Readable.from(body, { objectMode: false }),
    signal: controller.signal,
    headersTimeout: 120_000,
    bodyTimeout: 120_000,
  });
  async function* lines(): AsyncGenerator<any> {
    let rest = '';
    for await (const chunk of response.body) {
      const parts = (rest + (chunk as Buffer).toString('utf8')).split('\n');
      rest = parts.pop()!;
      for (const part of parts) yield JSON.parse(part);
    }
    if (rest !== '') throw new Error(`the answer ended inside a line: ${rest.slice(0, 200)}`);
  }
  return {
    status: response.statusCode,
    headers: response.headers,
    lines: lines(),
    destroy: () => controller.abort(),
  };
}

/**
 * `count` NDJSON lines `{"id": i, "text": ...}` made from the validation tweets (each one varied by its
 * number, so that no cache could answer), produced in chunks of about 64 KiB as the reader pulls them.
 */
export async function* generatedLines(count: number, texts = validationTexts()): AsyncGenerator<string> {
  let chunk = '';
  for (let i = 0; i < count; i++) {
    chunk += `${JSON.stringify({ id: i, text: `${texts[i % texts.length]} #${i}` })}\n`;
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

/**
 * Posts `rounds` lines one at a time, each only after the previous one was answered, and counts the answers in
 * order: it proves a stream answers line by line rather than after the whole body. Returns the ids seen.
 */
export async function pingPongIds(url: string, texts: readonly string[], rounds = 5): Promise<number[]> {
  let answered: (() => void) | undefined;
  async function* pingPong(): AsyncGenerator<string> {
    for (let i = 0; i < rounds; i++) {
      const next = new Promise<void>((resolve) => { answered = resolve; });
      yield `${JSON.stringify({ id: i, text: texts[i] })}\n`;
      await next;
    }
  }
  const answer = await postStream(url, pingPong());
  const ids: number[] = [];
  for await (const line of answer.lines) {
    ids.push((line as { id: number }).id);
    answered?.();
  }
  return ids;
}
