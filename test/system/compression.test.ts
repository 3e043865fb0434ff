// Response compression over real HTTP and in a real browser: answers of 1 KiB or more come back in br or gzip
// as the client accepts them (and decode to the plain answer), small ones and clients that accept neither get
// them plain, COMPRESSION=0 turns it off; an NDJSON stream is compressed chunk by chunk, so that its first
// answers decode while the request body is still being sent.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { brotliDecompressSync, createBrotliDecompress, createGunzip, gunzipSync } from 'node:zlib';
import t from 'tap';
import { request } from 'undici';
import { COMPRESSION_THRESHOLD_BYTES } from '../../server/compression.js';
import { launchBrowser } from '../helpers/browser.js';
import { startTestService, type TestService } from '../helpers/service.js';

const server: TestService = await startTestService();
t.teardown(() => server.close());

const TEXTS = Array.from({ length: 20 }, (_, i) => `tweet number ${i}: what a game tonight`);

async function post(url: string, path: string, body: unknown, acceptEncoding?: string) {
  const response = await request(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding }) },
    body: JSON.stringify(body),
  });
  const bytes = Buffer.from(await response.body.arrayBuffer());
  return { encoding: response.headers['content-encoding'], vary: String(response.headers.vary ?? ''), bytes };
}

const decode = (encoding: string | string[] | undefined, bytes: Buffer) =>
  JSON.parse((encoding === 'br' ? brotliDecompressSync(bytes) : encoding === 'gzip' ? gunzipSync(bytes) : bytes).toString());

t.test('a batch answer is compressed as the client asks, and decodes to the plain answer', async (t) => {
  const plain = await post(server.url, '/api/predict/batch', { texts: TEXTS });
  t.equal(plain.encoding, undefined, 'no Accept-Encoding: plain');
  t.ok(plain.bytes.length >= COMPRESSION_THRESHOLD_BYTES, `the answer is ${plain.bytes.length} bytes`);
  const expected = JSON.parse(plain.bytes.toString());
  for (const [accept, encoding] of [['br', 'br'], ['gzip', 'gzip'], ['gzip, deflate, br', 'br'], ['br;q=0.5, gzip', 'gzip'], ['identity', undefined], ['deflate', undefined]] as const) {
    const answer = await post(server.url, '/api/predict/batch', { texts: TEXTS }, accept);
    t.equal(answer.encoding, encoding, `Accept-Encoding: ${accept} → ${encoding ?? 'plain'}`);
    t.same(decode(answer.encoding, answer.bytes), expected, `${accept}: the same predictions`);
    if (encoding !== undefined) {
      t.ok(answer.bytes.length < plain.bytes.length / 3, `${encoding}: ${answer.bytes.length} of ${plain.bytes.length} bytes`);
      t.match(answer.vary, /accept-encoding/i, `${encoding}: Vary: Accept-Encoding`);
    }
  }
});

t.test('answers under the threshold stay plain; the OpenAPI document is compressed', async (t) => {
  const single = await post(server.url, '/api/predict', { text: 'short answer' }, 'gzip, br');
  t.equal(single.encoding, undefined, `one prediction (${single.bytes.length} bytes) is sent plain`);
  const docs = await request(`${server.url}/docs/json`, { headers: { 'accept-encoding': 'br' } });
  const bytes = Buffer.from(await docs.body.arrayBuffer());
  t.equal(docs.headers['content-encoding'], 'br', '/docs/json in br');
  t.ok(decode('br', bytes).openapi, 'decodes to the document');
});

t.test('COMPRESSION=0 sends every answer plain', async (t) => {
  const off = await startTestService({ COMPRESSION: '0' });
  t.teardown(() => off.close());
  const answer = await post(off.url, '/api/predict/batch', { texts: TEXTS }, 'gzip, br');
  t.equal(answer.encoding, undefined);
  t.equal(decode(undefined, answer.bytes).predictions.length, TEXTS.length);
});

/** Resolves with the response as soon as its headers arrive (the request body may still be open). */
function openStream(encoding: string, id: string) {
  let respond: (response: IncomingMessage) => void;
  const responded = new Promise<IncomingMessage>((resolve) => { respond = resolve; });
  const req = httpRequest(`${server.url}/api/predict/stream`, {
    method: 'POST', headers: { 'content-type': 'application/x-ndjson', 'accept-encoding': encoding, 'x-request-id': id },
  }, (response) => respond(response));
  return { req, responded };
}

for (const encoding of ['gzip', 'br']) {
  t.test(`an NDJSON stream in ${encoding}: each chunk of answers decodes as it is sent, before the body ends`, async (t) => {
    const { req, responded } = openStream(encoding, `stream-${encoding}`);
    req.write('{"id":1,"text":"first"}\n{"id":2,"text":"second"}\n');
    const response = await responded;
    t.equal(response.headers['content-encoding'], encoding, `Content-Encoding: ${encoding}`);
    t.equal(response.headers['x-request-id'], `stream-${encoding}`, 'and its request id');
    const decoder = encoding === 'br' ? createBrotliDecompress() : createGunzip();
    response.pipe(decoder);
    let text = '';
    const linesSoFar = () => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { id: number; label?: string });
    let waiting: { count: number; resolve: () => void } | undefined;
    decoder.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (waiting !== undefined && linesSoFar().length >= waiting.count) waiting.resolve();
    });
    const ended = new Promise((resolve, reject) => { decoder.once('end', resolve); decoder.once('error', reject); });
    // A buffered stream would give nothing until the body ends: fail then instead of waiting forever.
    const lines = (count: number) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${linesSoFar().length} of ${count} answers decoded after 10 s: the stream is not flushed`)), 10_000);
      waiting = { count, resolve: () => { clearTimeout(timer); resolve(); } };
      if (linesSoFar().length >= count) waiting.resolve();
    });
    // The first two answers arrive, decoded, while the request is still open: nothing waits for the end.
    await lines(2);
    t.same(linesSoFar().map((line) => line.id), [1, 2], 'the first two answers, before the body ends');
    t.ok(linesSoFar().every((line) => typeof line.label === 'string'), 'as predictions');
    req.end('{"id":3,"text":"third"}\n');
    await ended;
    t.same(linesSoFar().map((line) => line.id), [1, 2, 3], 'then the rest, and the stream ends well-formed');
  });
}

t.test('in Chromium: the page gets a compressed batch, decoded by the browser', async (t) => {
  const browser = await launchBrowser();
  t.teardown(() => browser.close());
  const page = await browser.context.newPage();
  await page.goto(`${server.url}/api/health`);
  const result = await page.evaluate<{ encoding: string | null; predictions: number }>(`(async (texts) => {
    const response = await fetch('/api/predict/batch', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ texts }) });
    return { encoding: response.headers.get('content-encoding'), predictions: (await response.json()).predictions.length };
  })(${JSON.stringify(TEXTS)})`);
  t.match(result.encoding, /^(br|gzip)$/, `the browser asked for it and got ${result.encoding}`);
  t.equal(result.predictions, TEXTS.length, 'and read every prediction');
});
