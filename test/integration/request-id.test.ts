// Request ids over real HTTP: a safe X-Request-ID is kept, anything else replaced by a fresh UUID; the id comes
// back on every response (predictions, errors of every protocol, 404, 405, NDJSON streams), in the service's
// error bodies, and in the service's log lines (requestId), so that a failed call can be found in the log.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { request } from 'undici';
import { startTestService, type TestService } from '../helpers/service.js';

const logLines: Record<string, unknown>[] = [];
const logger = pino({ level: 'debug' }, new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
}));
// LOG_LEVEL=debug turns on Fastify's per-request log lines.
const server: TestService = await startTestService({ LOG_LEVEL: 'debug', API_KEYS: 'k' }, logger);
t.teardown(() => server.close());

const KEY = { authorization: 'Bearer k' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function call(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const response = await request(`${server.url}${path}`, { method: method as 'GET', headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers }, body });
  const text = await response.body.text();
  return { status: response.statusCode, id: response.headers['x-request-id'], text };
}

t.test('a safe X-Request-ID comes back on every kind of answer, and in the service\'s error bodies', async (t) => {
  const v2 = JSON.stringify({ inputs: [{ name: 'text', shape: [1], datatype: 'FP32', data: [1] }] });
  const cases: [string, string, string | undefined, Record<string, string>, number, 'service' | 'tei' | 'v2' | 'none'][] = [
    ['POST', '/api/predict', '{"text":"fine"}', KEY, 200, 'none'],
    ['POST', '/api/predict', '{"text":""}', KEY, 400, 'service'],
    ['POST', '/api/predict', '{"text":"no key"}', {}, 401, 'service'],
    ['GET', '/api/nothing', undefined, {}, 404, 'service'],
    ['DELETE', '/api/predict/batch', undefined, {}, 405, 'service'],
    ['POST', '/predict', '{"inputs":["a","b"]}', KEY, 422, 'tei'],
    ['POST', '/hf/text-classification', '{"inputs":42}', KEY, 400, 'tei'],
    ['POST', '/v2/models/sentiment/infer', v2, KEY, 400, 'v2'],
    ['GET', '/v2/models/nope', undefined, KEY, 404, 'v2'],
  ];
  for (const [i, [method, path, body, headers, status, shape]] of cases.entries()) {
    const id = `client-${i}.A:b_c`;
    const answer = await call(method, path, { ...headers, 'x-request-id': id }, body);
    t.equal(answer.status, status, `${method} ${path}: ${status}`);
    t.equal(answer.id, id, `${method} ${path}: x-request-id echoed`);
    if (shape === 'service') t.equal(JSON.parse(answer.text).requestId, id, `${method} ${path}: requestId in the body`);
    // The protocols' bodies are their specifications' objects: the id is in the header only.
    if (shape === 'tei') t.same(Object.keys(JSON.parse(answer.text)).sort(), ['error', 'error_type'], `${method} ${path}: TEI's shape kept`);
    if (shape === 'v2') t.same(Object.keys(JSON.parse(answer.text)), ['error'], `${method} ${path}: V2's shape kept`);
  }

  const stream = await request(`${server.url}/api/predict/stream`, {
    method: 'POST', headers: { ...KEY, 'content-type': 'application/x-ndjson', 'x-request-id': 'bulk-run-7' }, body: '{"text":"one"}\nnot json\n',
  });
  const lines = (await stream.body.text()).trim().split('\n');
  t.equal(stream.headers['x-request-id'], 'bulk-run-7', 'an NDJSON stream carries it');
  t.equal(lines.length, 2, 'and answers its lines');
});

t.test('an unsafe or missing id is replaced by a fresh UUID', async (t) => {
  const seen = new Set<string>();
  for (const given of [undefined, '', 'has space', 'quote"d', 'x'.repeat(129), 'ünicode', '<script>']) {
    const answer = await call('GET', '/api/health', given === undefined ? {} : { 'x-request-id': given });
    t.match(answer.id, UUID, `${JSON.stringify(given?.slice(0, 20))}: a UUID instead`);
    seen.add(String(answer.id));
  }
  t.equal(seen.size, 7, 'a different one each time');
  const longest = 'y'.repeat(128);
  t.equal((await call('GET', '/api/health', { 'x-request-id': longest })).id, longest, '128 characters are kept');
});

t.test('the log lines of a request carry its id', async (t) => {
  const id = 'find-me-in-the-log';
  const answer = await call('POST', '/api/predict', { ...KEY, 'x-request-id': id }, '{"text":""}');
  t.equal(answer.status, 400);
  const mine = logLines.filter((line) => line.requestId === id);
  t.ok(mine.some((line) => line.msg === 'incoming request'), 'the incoming request line');
  t.ok(mine.some((line) => line.msg === 'request completed' && (line.res as { statusCode: number }).statusCode === 400), 'the completed line, with its status');
  t.notOk(logLines.some((line) => 'reqId' in line), 'one name for it: requestId');
});
