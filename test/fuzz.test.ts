// Property-based fuzzing with fast-check: generated malformed and hostile requests (bodies, headers,
// methods, encodings, sizes, raw broken HTTP) never get a 5xx, never kill the process, and every error
// body is { statusCode, code, error, message }.
import { connect } from 'node:net';
import fc from 'fast-check';
import t from 'tap';
import { request } from 'undici';
import { startServerProcess } from './helpers/process.js';

const server = await startServerProcess({
  MODEL_PATH: new URL('./fixtures/bert-tiny', import.meta.url).pathname,
  MAX_TEXT_CHARS: '200', MAX_CLIENT_BATCH: '8', BODY_LIMIT: '8192', API_KEYS: 'fuzz-key', ADMIN_API_KEYS: 'fuzz-admin',
});
t.teardown(() => { server.child.kill('SIGKILL'); });

const PATHS = ['/api/predict', '/api/predict/batch', '/api/model', '/api/health', '/api/ready', '/api/admin/reload', '/api/nothing', '/', '/api/predict?x=1', '/api//predict', '/api/predict/', '/%2e%2e/etc/passwd', '/api/predict%00', '/docs/json', '/api/' + 'a'.repeat(3000)];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];
const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', '', 'application/json, text/html', 'APPLICATION/JSON'];

/** A text that is valid, or hostile: control characters, lone surrogates, huge, RTL, emoji, special tokens. */
const hostileText = fc.oneof(
  fc.string({ maxLength: 50 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '\udfff x', '[CLS] [SEP] [PAD] <s></s><pad>', '\u202e\u200b\ufeff', '😀'.repeat(150), 'a'.repeat(201), '💩'.repeat(101)),
  fc.string({ minLength: 150, maxLength: 300 }),
);

/** A JSON value of any shape: what a confused or hostile client might put where a text belongs. */
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  hostileText,
  fc.constantFrom(null, true, 0, -1, 1e308, [], {}, { __proto__: { admin: true } }, { constructor: { prototype: { x: 1 } } }),
);

const body = fc.oneof(
  fc.record({ text: anyJson }, { requiredKeys: [] }),
  fc.record({ texts: fc.oneof(fc.array(anyJson, { maxLength: 12 }), anyJson) }, { requiredKeys: [] }),
  fc.record({ text: hostileText, extra: anyJson }),
  anyJson,
).map((value) => JSON.stringify(value) ?? 'undefined');

const rawBody = fc.oneof(
  body,
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom('{"text": "unterminated', '{"text":"a"}{"text":"b"}', '{"__proto__":{"polluted":1},"text":"x"}', '{"text":"x","text":"y"}', '[' .repeat(5000) + ']'.repeat(5000), '{"text":"' + 'x'.repeat(9000) + '"}', '\u0000\u0001\u0002', '\ufeff{"text":"bom"}', '{"text":"\\ud800"}'),
);

const headers = fc.record({
  'content-type': fc.constantFrom(...CONTENT_TYPES),
  authorization: fc.option(fc.oneof(fc.constant('Bearer fuzz-key'), fc.constant('Bearer fuzz-admin'), fc.string({ maxLength: 40 }).map((s) => `Bearer ${s}`), fc.constant('Basic Zm9vOmJhcg==')), { nil: undefined }),
  'x-api-key': fc.option(fc.oneof(fc.constant('fuzz-key'), fc.string({ maxLength: 40 })), { nil: undefined }),
  'content-encoding': fc.option(fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'x-unknown'), { nil: undefined }),
  'accept': fc.option(fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml'), { nil: undefined }),
}, { requiredKeys: ['content-type'] });

const hostileRequest = fc.record({ method: fc.constantFrom(...METHODS), path: fc.constantFrom(...PATHS), headers, body: rawBody });

function headerValuesAreValid(value: string | undefined): boolean {
  return value === undefined || /^[\t\x20-\x7e]*$/.test(value);
}

let sent = 0;
let errorBodies = 0;

t.test('1,200 generated hostile requests: no 5xx, and every error is {statusCode, code, error, message}', async (t) => {
  await fc.assert(fc.asyncProperty(hostileRequest, async (req) => {
    const cleanHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && headerValuesAreValid(value)) cleanHeaders[name] = value;
    }
    const withBody = !['GET', 'HEAD'].includes(req.method);
    const response = await request(`${server.url}${req.path}`, {
      method: req.method as 'GET', headers: cleanHeaders, body: withBody ? req.body : undefined,
    });
    const text = await response.body.text();
    sent++;
    if (response.statusCode >= 500) throw new Error(`${response.statusCode} for ${req.method} ${req.path}: ${text.slice(0, 200)}`);
    if (response.statusCode >= 400 && req.method !== 'HEAD') {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const keys = Object.keys(parsed).sort().join(',');
      if (keys !== 'code,error,message,statusCode' || parsed.statusCode !== response.statusCode) {
        throw new Error(`bad error body for ${req.method} ${req.path}: ${text.slice(0, 200)}`);
      }
      if (/\/work\/|node_modules|\n\s+at /.test(String(parsed.message))) throw new Error(`internal detail leaked: ${parsed.message}`);
      errorBodies++;
    }
  }), { numRuns: 1200, seed: 20261126 });
  t.equal(sent, 1200);
  t.ok(errorBodies > 600, `${errorBodies} error answers checked`);
});

/** Sends bytes on a raw socket and returns what the server answered before closing. */
function raw(bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(server.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => { answer += chunk; });
    socket.on('error', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.setTimeout(5000, () => socket.destroy());
    socket.end(bytes);
  });
}

t.test('broken HTTP on the wire gets a 4xx JSON answer or a closed connection, never a 5xx', async (t) => {
  const cases = [
    'GARBAGE\r\n\r\n',
    'POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
    'POST /api/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZZ\r\n',
    'POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"text":"short"}',
    `GET /${'a'.repeat(20000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20000)}\r\n\r\n`,
    'POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n',
    'GET /api/health HTTP/9.9\r\nHost: x\r\n\r\n',
  ];
  for (const bytes of cases) {
    const answer = await raw(bytes);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0);
    t.ok(status === 0 || (status >= 400 && status < 500), `${JSON.stringify(bytes.slice(0, 50))} → ${status || 'closed'}`);
    // The first response only: a keep-alive connection may carry a second one.
    const [head = '', ...rest] = answer.split('\r\n\r\n');
    const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
    const json = Buffer.from(rest.join('\r\n\r\n')).subarray(0, length).toString();
    if (status >= 400 && json) t.match(JSON.parse(json), { statusCode: status, error: String, message: String });
  }
});

t.test('the process survived it all and still predicts', async (t) => {
  t.equal(server.child.exitCode, null, 'still running');
  const res = await fetch(`${server.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'fuzz-key' }, body: '{"text":"still alive"}' });
  t.equal(res.status, 200);
});
