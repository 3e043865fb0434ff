// CORS_ORIGINS in a real browser (Debian's Chromium): a page served from one origin calls the API on another,
// on every protocol's routes, directly and through NGINX (the project's nginx.conf), and a page from an origin
// not listed is refused. Then the preflight and the headers themselves over plain HTTP.
// Needs `npm run build` first (the replica behind NGINX), nginx and chromium installed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Page } from 'playwright-core';
import { startLocalNginx, startReplica, type Nginx, type Replica } from '../../deploy/local-stack.js';
import { ConfigError, loadConfig } from '../../core/config.js';
import { CORS_MAX_AGE_S } from '../../server/cors.js';
import { launchBrowser, type Browser } from '../helpers/browser.js';
import { startTestService, type TestService } from '../helpers/service.js';

const KEY = 'cors-key-77';

/** A page origin: a loopback server whose only page is blank (the calls are made from it by the test). */
async function pageOrigin(): Promise<{ origin: string; server: Server }> {
  const server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const work = mkdtempSync(join(tmpdir(), 'cors-test-'));
const allowedPage = await pageOrigin();
const otherPage = await pageOrigin();
const env = { CORS_ORIGINS: `https://app.example.com,${allowedPage.origin}`, API_KEYS: KEY };
const direct: TestService = await startTestService(env);
const replica: Replica = await startReplica({ env });
const nginx: Nginx = await startLocalNginx({ dir: join(work, 'nginx'), upstreams: [replica.address] });
// The same stack with a per-client limit that a handful of calls exceeds: NGINX's own 429.
const strictNginx: Nginx = await startLocalNginx({ dir: join(work, 'strict'), upstreams: [replica.address], limitReq: { rate: '1r/m', burst: 2 } });
let browser: Browser;
t.before(async () => { browser = await launchBrowser(); });
t.teardown(async () => {
  await browser?.close();
  await Promise.all([nginx.stop(), strictNginx.stop()]);
  await Promise.all([replica.stop(), direct.close()]);
  for (const { server } of [allowedPage, otherPage]) server.close();
  rmSync(work, { recursive: true, force: true });
});

interface PageCall { url: string; method?: string; headers?: Record<string, string>; body?: string }
type PageAnswer = { ok: true; status: number; text: string; headers: Record<string, string | null> } | { ok: false; error: string };

const READ_HEADERS = ['x-request-id', 'x-model-version', 'x-queue-time', 'x-inference-time', 'x-total-time', 'x-cache', 'retry-after', 'www-authenticate', 'allow', 'content-type'];

/** fetch() run in the page (a string: the test's compiled functions are not the page's). */
function callFromPage(page: Page, call: PageCall): Promise<PageAnswer> {
  return page.evaluate<PageAnswer>(`(async (call, names) => {
    try {
      const response = await fetch(call.url, { method: call.method ?? 'GET', headers: call.headers, body: call.body });
      const headers = {};
      for (const name of names) headers[name] = response.headers.get(name);
      return { ok: true, status: response.status, text: await response.text(), headers };
    } catch (error) {
      return { ok: false, error: String(error) };
    }
  })(${JSON.stringify(call)}, ${JSON.stringify(READ_HEADERS)})`);
}

async function openPage(origin: string): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(`${origin}/`);
  return page;
}

const json = (body: unknown) => ({ 'content-type': 'application/json', authorization: `Bearer ${KEY}`, body: JSON.stringify(body) });
function post(url: string, body: unknown, headers: Record<string, string> = {}): PageCall {
  const { body: text, ...jsonHeaders } = json(body);
  return { url, method: 'POST', headers: { ...jsonHeaders, ...headers }, body: text };
}

/** One call per protocol, each answered 200 with a body that `check` recognises. */
function protocolCalls(api: string): [string, PageCall, (body: any) => boolean][] {
  const v2 = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['what a great game'] }] };
  return [
    ['REST /api/predict', post(`${api}/api/predict`, { text: 'what a great game' }), (b) => typeof b.label === 'string'],
    ['REST /api/predict/batch', post(`${api}/api/predict/batch`, { texts: ['one', 'two'] }), (b) => b.predictions.length === 2],
    ['NDJSON stream', { url: `${api}/api/predict/stream`, method: 'POST', headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${KEY}` }, body: '{"text":"one"}\n{"text":"two"}\n' }, (b) => b === 2],
    ['TEI /predict', post(`${api}/predict`, { inputs: 'what a great game' }), (b) => Array.isArray(b) && typeof b[0].label === 'string'],
    ['TEI /info', { url: `${api}/info`, headers: { authorization: `Bearer ${KEY}` } }, (b) => typeof b.model_id === 'string'],
    ['HF task', post(`${api}/hf/text-classification`, { inputs: 'what a great game' }), (b) => Array.isArray(b[0])],
    ['V2 infer', post(`${api}/v2/models/sentiment/infer`, v2), (b) => b.outputs.length === 3],
    ['V2 metadata', { url: `${api}/v2/models/sentiment`, headers: { authorization: `Bearer ${KEY}` } }, (b) => b.platform === 'onnx_onnxv1'],
  ];
}

function parse(answer: PageAnswer & { ok: true }): unknown {
  const lines = answer.text.trim().split('\n');
  return (answer.headers['content-type'] ?? '').startsWith('application/x-ndjson') ? lines.filter((line) => 'label' in JSON.parse(line)).length : JSON.parse(answer.text);
}

for (const [how, apiOf] of [['directly', () => direct.url], ['through NGINX', () => nginx.url]] as const) {
  t.test(`a page on a listed origin calls every protocol ${how}, and reads the exposed headers`, async (t) => {
    const api = apiOf();
    const page = await openPage(allowedPage.origin);
    t.teardown(() => page.close());
    for (const [name, call, check] of protocolCalls(api)) {
      const answer = await callFromPage(page, { ...call, headers: { ...call.headers, 'x-request-id': `page-${name.replace(/\W+/g, '-')}` } });
      if (!answer.ok) { t.fail(`${name}: ${answer.error}`); continue; }
      t.equal(answer.status, 200, `${name}: 200`);
      t.ok(check(parse(answer)), `${name}: the page reads the body`);
      t.equal(answer.headers['x-request-id'], `page-${name.replace(/\W+/g, '-')}`, `${name}: the page reads its x-request-id`);
      // The headers of predictions (metadata routes have none; a stream has no per-call timings).
      if (!name.includes('metadata') && !name.includes('info')) t.match(answer.headers['x-model-version'], /^[0-9a-f]{12}$/, `${name}: and x-model-version`);
      if (!name.includes('stream') && !name.includes('metadata') && !name.includes('info')) {
        t.match(answer.headers['x-queue-time'], /^\d+\.\d{3}$/, `${name}: and the timings`);
      }
    }

    const invalid = await callFromPage(page, post(`${api}/api/predict`, { text: '' }));
    t.ok(invalid.ok && invalid.status === 400, 'an invalid call: the page reads the 400');
    if (invalid.ok) t.equal(JSON.parse(invalid.text).requestId, invalid.headers['x-request-id'], 'its body names the request id the header gives');
    const unauthorized = await callFromPage(page, { url: `${api}/api/predict`, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"x"}' });
    t.ok(unauthorized.ok && unauthorized.status === 401 && unauthorized.headers['www-authenticate'] !== null, 'without a key: the page reads the 401 and WWW-Authenticate');
    const wrongMethod = await callFromPage(page, { url: `${api}/api/predict`, headers: { authorization: `Bearer ${KEY}` } });
    t.ok(wrongMethod.ok && wrongMethod.status === 405, 'GET /api/predict: the page reads the 405');
    if (wrongMethod.ok) t.equal(wrongMethod.headers.allow, 'POST, OPTIONS', 'and its Allow header');
    const teiError = await callFromPage(page, post(`${api}/predict`, { inputs: ['a', 'b'] }));
    t.ok(teiError.ok && teiError.status === 422 && JSON.parse(teiError.text).error_type === 'Validation', 'a TEI error in TEI\'s shape, readable');
  });

  t.test(`a page on an origin not listed is refused ${how}`, async (t) => {
    const api = apiOf();
    const page = await openPage(otherPage.origin);
    t.teardown(() => page.close());
    for (const [name, call] of protocolCalls(api)) {
      const answer = await callFromPage(page, call);
      t.notOk(answer.ok, `${name}: the browser refuses the answer`);
      if (!answer.ok) t.match(answer.error, /TypeError: Failed to fetch/, `${name}: as a network error`);
    }
    // A simple request (no preflight) reaches the service, but its answer has no Access-Control-Allow-Origin.
    const health = await callFromPage(page, { url: `${api}/api/health` });
    t.notOk(health.ok, 'a simple GET is sent but its answer is not given to the page');
  });
}

t.test('through NGINX, a preflight is sent once and then cached', async (t) => {
  const page = await openPage(allowedPage.origin);
  t.teardown(() => page.close());
  // A URL no earlier test called: the browser caches preflights by URL.
  const path = '/api/predict?preflight-cache';
  for (let i = 0; i < 3; i++) {
    const answer = await callFromPage(page, post(`${nginx.url}${path}`, { text: `call ${i}` }));
    t.ok(answer.ok && answer.status === 200, `call ${i + 1}: 200`);
  }
  const entries = await nginx.awaitAccessLog((entry) => entry.uri === path, 4);
  t.same(entries.map((entry) => entry.method), ['OPTIONS', 'POST', 'POST', 'POST'], 'one preflight, then three calls (Access-Control-Max-Age)');
});

t.test('NGINX\'s own answers (its 429) are readable by the page, with Retry-After and the request id', async (t) => {
  const page = await openPage(allowedPage.origin);
  t.teardown(() => page.close());
  let limited: PageAnswer | undefined;
  for (let i = 0; i < 10 && limited === undefined; i++) {
    const answer = await callFromPage(page, { url: `${strictNginx.url}/api/health` });
    if (!answer.ok) { t.fail(answer.error); break; }
    if (answer.status === 429) limited = answer;
  }
  t.ok(limited?.ok, 'the page got NGINX\'s 429 within 10 calls');
  if (limited?.ok) {
    t.equal(limited.headers['retry-after'], '1', 'and reads Retry-After');
    const body = JSON.parse(limited.text);
    t.match(body, { statusCode: 429, code: 'RATE_LIMITED' }, 'the service\'s error shape');
    t.equal(body.requestId, limited.headers['x-request-id'], 'naming the request id the header gives');
  }
});

t.test('the preflight and the headers, over HTTP', async (t) => {
  const preflight = await fetch(`${direct.url}/v2/models/sentiment/infer`, {
    method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  });
  t.equal(preflight.status, 204, 'a preflight is answered 204');
  t.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example.com', 'for a listed origin, echoed');
  t.equal(preflight.headers.get('access-control-max-age'), String(CORS_MAX_AGE_S), 'cached by the browser');
  t.match(preflight.headers.get('access-control-allow-headers'), /Authorization.*Content-Type/, 'Authorization and Content-Type allowed');
  t.match(preflight.headers.get('access-control-allow-methods'), /POST/, 'POST allowed');
  t.match(preflight.headers.get('vary'), /Origin/, 'Vary: Origin (a cache must not give one origin\'s answer to another)');
  t.ok(preflight.headers.get('x-request-id'), 'and it has a request id');

  const refused = await fetch(`${direct.url}/api/predict`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
  t.equal(refused.headers.get('access-control-allow-origin'), null, 'an origin not listed gets no Access-Control-Allow-Origin');

  const error = await fetch(`${direct.url}/v2/models/nope/infer`, { method: 'POST', headers: { origin: 'https://app.example.com', 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: '{}' });
  t.ok(error.status >= 400 && error.status < 500, `a V2 error (${error.status})`);
  t.equal(error.headers.get('access-control-allow-origin'), 'https://app.example.com', 'carries the CORS headers too');
  t.match(error.headers.get('access-control-expose-headers'), /x-request-id.*retry-after/, 'and exposes the request id and Retry-After');
  await error.arrayBuffer();

  const any = await startTestService({ CORS_ORIGINS: '*' });
  t.teardown(() => any.close());
  const star = await fetch(`${any.url}/api/health`, { headers: { origin: 'https://anywhere.example' } });
  t.equal(star.headers.get('access-control-allow-origin'), '*', 'CORS_ORIGINS=*: any origin');
  await star.arrayBuffer();
});

t.test('CORS_ORIGINS is checked at start-up: an origin written otherwise would never match a browser\'s', async (t) => {
  t.same(loadConfig({ CORS_ORIGINS: '' }, []).corsOrigins, [], 'unset: off');
  t.same(loadConfig({ CORS_ORIGINS: ' https://a.example , http://localhost:3000 ' }, []).corsOrigins, ['https://a.example', 'http://localhost:3000']);
  t.same(loadConfig({ CORS_ORIGINS: '*' }, []).corsOrigins, ['*']);
  for (const bad of ['https://a.example/', 'https://a.example/app', 'a.example', 'ftp://a.example', '*,https://a.example']) {
    t.throws(() => loadConfig({ CORS_ORIGINS: bad }, []), ConfigError, `'${bad}' is refused`);
  }
});
