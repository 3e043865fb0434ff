// Property-based fuzzing with fast-check: generated malformed and hostile requests (bodies, headers,
// methods, encodings, sizes, raw broken HTTP) never get a 5xx, never kill the process, and every error
// body has its route's protocol shape: { statusCode, code, error, message, requestId } for the service's
// routes, TEI's { error, error_type } for the TEI and HF task routes, V2's { error } under /v2/; a wrong
// method on a known path is a 405 with Allow in its path's shape; every answer carries x-request-id.
import { connect } from 'node:net';
import fc from 'fast-check';
import t from 'tap';
import { request } from 'undici';
import { startServerProcess } from '../helpers/process.js';

const server = await startServerProcess({
  MODEL_PATH: new URL('../fixtures/bert-tiny', import.meta.url).pathname,
  MAX_TEXT_CHARS: '200', MAX_CLIENT_BATCH: '8', BODY_LIMIT: '8192', API_KEYS: 'fuzz-key', ADMIN_API_KEYS: 'fuzz-admin',
});
t.teardown(() => { server.child.kill('SIGKILL'); });

const PROTOCOL_PATHS = [
  '/predict', '/', '/health', '/info', '/tokenize', '/decode', '/hf/text-classification', '/predict?x=1',
  '/v2', '/v2/', '/v2/health/live', '/v2/health/ready', '/v2/models/bert-tiny-fixture', '/v2/models/sentiment/ready',
  '/v2/models/sentiment/infer', '/v2/models/bert-tiny-fixture/infer', '/v2/models/sentiment/versions/abc/infer', '/v2/models/nope/infer',
  '/v2/models/%2e%2e/infer', '/v2/models/sentiment/infer/', '/v2/repository/index',
];
const PATHS = [...PROTOCOL_PATHS, '/api/predict', '/api/predict/batch', '/api/model', '/api/health', '/api/ready', '/api/admin/reload', '/api/nothing', '/', '/api/predict?x=1', '/api//predict', '/api/predict/', '/%2e%2e/etc/passwd', '/api/predict%00', '/docs/json', '/api/' + 'a'.repeat(3000)];
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

const texts = fc.array(hostileText, { maxLength: 10 });
const teiBody = fc.record({
  inputs: fc.oneof(anyJson, texts, fc.array(fc.oneof(hostileText, texts), { maxLength: 10 })),
  raw_scores: anyJson, truncate: fc.oneof(fc.boolean(), anyJson), truncation_direction: fc.oneof(fc.constantFrom('Left', 'right', 'up'), anyJson),
}, { requiredKeys: [] });
const v2Body = fc.record({
  id: anyJson,
  parameters: fc.oneof(anyJson, fc.record({ truncation: fc.oneof(fc.constantFrom('left', 'none', 'x'), anyJson) })),
  inputs: fc.oneof(anyJson, fc.array(fc.record({
    name: fc.oneof(fc.constant('text'), anyJson),
    shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 12 }), { maxLength: 3 }), anyJson),
    datatype: fc.constantFrom('BYTES', 'FP32', 'INT64', 'bytes', ''),
    data: fc.oneof(texts, fc.array(texts, { maxLength: 10 }), anyJson),
    parameters: anyJson,
  }, { requiredKeys: [] }), { maxLength: 3 })),
  outputs: fc.oneof(anyJson, fc.array(fc.record({ name: fc.constantFrom('label', 'probabilities', 'logits', 'x') }), { maxLength: 4 })),
}, { requiredKeys: [] });
const tokenizerBody = fc.record({
  inputs: fc.oneof(hostileText, texts, anyJson),
  ids: fc.oneof(fc.array(fc.integer({ min: -5, max: 40_000 }), { maxLength: 20 }), fc.array(fc.array(fc.integer({ min: -1, max: 2 ** 31 })), { maxLength: 10 }), anyJson),
  add_special_tokens: anyJson, skip_special_tokens: anyJson, prompt_name: anyJson,
}, { requiredKeys: [] });
const hfBody = fc.record({
  inputs: fc.oneof(hostileText, texts, anyJson),
  parameters: fc.oneof(anyJson, fc.record({ top_k: fc.oneof(fc.integer({ min: -1, max: 5 }), anyJson), function_to_apply: fc.constantFrom('softmax', 'sigmoid', 'none', 'tanh') }, { requiredKeys: [] })),
}, { requiredKeys: [] });

const body = fc.oneof(
  teiBody, v2Body, tokenizerBody, hfBody,
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

const hostileRequest = fc.oneof(
  fc.record({ method: fc.constantFrom(...METHODS), path: fc.constantFrom(...PATHS), headers, body: rawBody }),
  // The protocols' POST routes with their own method, so that their handlers see the hostile bodies.
  fc.record({ method: fc.constant('POST'), path: fc.constantFrom('/predict', '/', '/tokenize', '/decode', '/hf/text-classification', '/v2/models/sentiment/infer', '/v2/models/bert-tiny-fixture/versions/abc/infer'), headers, body: rawBody }),
);

function headerValuesAreValid(value: string | undefined): boolean {
  return value === undefined || /^[\t\x20-\x7e]*$/.test(value);
}

/**
 * The error shape a route answers in: its protocol's (the route option errorFormat), else the service's. A
 * wrong method on a protocol's path (405) answers in that path's protocol.
 */
const TEI_ROUTES = new Set(['POST /predict', 'POST /', 'GET /health', 'GET /info', 'POST /tokenize', 'POST /decode', 'POST /hf/text-classification']);
const TEI_PATHS = new Set([...TEI_ROUTES].map((route) => route.split(' ')[1]!));
function errorShape(method: string, path: string, status: number): 'service' | 'tei' | 'v2' {
  const route = path.split('?')[0]!;
  // Under /v2 every answer is V2's, matched route or not (server/error-renderers.ts formatForPath).
  if (route === '/v2' || route.startsWith('/v2/')) return 'v2';
  if (status === 405) return TEI_PATHS.has(route) ? 'tei' : 'service';
  return TEI_ROUTES.has(`${method} ${route}`) ? 'tei' : 'service';
}

function errorBodyProblem(method: string, path: string, status: number, parsed: Record<string, unknown>, requestId: unknown): string | undefined {
  const keys = Object.keys(parsed).sort().join(',');
  const shape = errorShape(method, path, status);
  if (shape === 'tei') {
    if (keys !== 'error,error_type' || !['Unhealthy', 'Backend', 'Overloaded', 'Validation', 'Tokenizer', 'Empty'].includes(String(parsed.error_type))) return 'not a TEI ErrorResponse';
  } else if (shape === 'v2') {
    if (keys !== 'error' || typeof parsed.error !== 'string') return 'not a V2 error object';
  } else if (keys !== 'code,error,message,requestId,statusCode' || parsed.statusCode !== status) {
    return 'not the service\'s error body';
  } else if (parsed.requestId !== requestId) {
    return `requestId ${String(parsed.requestId)} is not the x-request-id header's ${String(requestId)}`;
  }
  const message = String(shape === 'service' ? parsed.message : parsed.error);
  if (/\/work\/|node_modules|\n\s+at /.test(message)) return `internal detail leaked: ${message}`;
  return undefined;
}

const RUNS = 2400;
let sent = 0;
let errorBodies = 0;
const protocolErrors = { tei: 0, v2: 0 };
const methodNotAllowed = { service: 0, tei: 0, v2: 0 };

t.test('2,400 generated hostile requests: no 5xx, and every error in its route\'s protocol shape', async (t) => {
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
    if (typeof response.headers['x-request-id'] !== 'string') throw new Error(`no x-request-id for ${req.method} ${req.path}`);
    if (response.statusCode === 405 && !/^[A-Z]+(, [A-Z]+)*$/.test(String(response.headers.allow))) throw new Error(`405 without Allow for ${req.method} ${req.path}`);
    if (response.statusCode >= 400 && req.method !== 'HEAD') {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const problem = errorBodyProblem(req.method, req.path, response.statusCode, parsed, response.headers['x-request-id']);
      if (problem !== undefined) throw new Error(`${problem} for ${req.method} ${req.path} (${response.statusCode}): ${text.slice(0, 200)}`);
      errorBodies++;
      const shape = errorShape(req.method, req.path, response.statusCode);
      if (shape !== 'service') protocolErrors[shape]++;
      if (response.statusCode === 405) methodNotAllowed[shape]++;
    }
  }), { numRuns: RUNS, seed: 20261126 });
  t.equal(sent, RUNS);
  t.ok(errorBodies > RUNS / 2, `${errorBodies} error answers checked`);
  t.ok(protocolErrors.tei > 400 && protocolErrors.v2 > 400, `${protocolErrors.tei} TEI and ${protocolErrors.v2} V2 error bodies among them`);
  t.ok(methodNotAllowed.service > 50 && methodNotAllowed.tei > 50 && methodNotAllowed.v2 > 50,
    `405s with Allow in each shape: ${methodNotAllowed.service} service, ${methodNotAllowed.tei} TEI, ${methodNotAllowed.v2} V2`);
});

/** Sends bytes on a raw socket and returns what the server answered before closing. */
function raw(bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(server.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => { answer += chunk.toString(); });
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
