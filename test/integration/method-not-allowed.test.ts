// 405 with Allow over real HTTP: every path the OpenAPI document lists, asked with every method it does not
// take, answers 405 with an Allow header naming exactly the methods it takes, in the error shape of the
// path's protocol; unknown paths stay 404. CORS is off here: OPTIONS is one of the wrong methods.
import t from 'tap';
import { request } from 'undici';
import { startTestService, type TestService } from '../helpers/service.js';

const server: TestService = await startTestService({ API_KEYS: 'k' });
t.teardown(() => server.close());

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
const TEI_PATHS = new Set(['/', '/predict', '/health', '/info', '/tokenize', '/decode', '/hf/text-classification']);

/** The OpenAPI paths (`{name}` → a concrete value) with their methods (GET brings HEAD, as Fastify serves it). */
async function documentedPaths(): Promise<Map<string, Set<string>>> {
  const doc = await (await fetch(`${server.url}/docs/json`)).json() as { paths: Record<string, Record<string, unknown>> };
  const paths = new Map<string, Set<string>>();
  for (const [path, operations] of Object.entries(doc.paths)) {
    const methods = new Set(Object.keys(operations).map((method) => method.toUpperCase()));
    if (methods.has('GET')) methods.add('HEAD');
    paths.set(path.replace(/\{name\}/, 'sentiment').replace(/\{version\}/, 'abc'), methods);
  }
  // Routes hidden from the document are paths all the same.
  paths.set('/', new Set(['GET', 'HEAD', 'POST']));
  paths.set('/playground/app.js', new Set(['GET', 'HEAD']));
  return paths;
}

function shapeOf(path: string): 'service' | 'tei' | 'v2' {
  if (path === '/v2' || path.startsWith('/v2/')) return 'v2';
  return TEI_PATHS.has(path) ? 'tei' : 'service';
}

t.test('every known path, asked with a method it does not take: 405, Allow, its protocol\'s error shape', async (t) => {
  const paths = await documentedPaths();
  t.ok(paths.size >= 20, `${paths.size} paths`);
  let checked = 0;
  for (const [path, methods] of paths) {
    const allow = METHODS.filter((method) => methods.has(method)).join(', ');
    for (const method of METHODS.filter((m) => !methods.has(m))) {
      const response = await request(`${server.url}${path}`, { method: method as 'GET', headers: { 'x-request-id': `wrong-${checked}` } });
      const text = await response.body.text();
      t.equal(response.statusCode, 405, `${method} ${path}: 405`);
      t.equal(response.headers.allow, allow, `${method} ${path}: Allow: ${allow}`);
      t.equal(response.headers['x-request-id'], `wrong-${checked}`, `${method} ${path}: the request id`);
      checked++;
      if (method === 'HEAD') { t.equal(text, '', 'HEAD: no body'); continue; }
      const body = JSON.parse(text);
      const message = `${path} does not take ${method}; it takes ${allow}`;
      const expected = { service: { statusCode: 405, code: 'METHOD_NOT_ALLOWED', error: 'Method Not Allowed', message, requestId: `wrong-${checked - 1}` }, tei: { error: message, error_type: 'Validation' }, v2: { error: message } }[shapeOf(path)];
      t.same(body, expected, `${method} ${path}: ${shapeOf(path)} error body`);
    }
  }
  t.ok(checked > 80, `${checked} wrong-method requests`);
});

t.test('unknown paths stay 404, whatever the method; the right method still works', async (t) => {
  for (const [method, path] of [['GET', '/api/nothing'], ['DELETE', '/api/predict/'], ['POST', '/v2/models/sentiment/explain'], ['PUT', '/predictions'], ['OPTIONS', '/nope']] as const) {
    const response = await request(`${server.url}${path}`, { method: method as 'GET' });
    const body = await response.body.json() as Record<string, unknown>;
    t.equal(response.statusCode, 404, `${method} ${path}: 404`);
    t.equal(response.headers.allow, undefined, `${method} ${path}: no Allow`);
    t.match(body, path.startsWith('/v2/') ? { error: String } : { code: 'NOT_FOUND' }, `${method} ${path}: not found`);
  }
  const ok = await fetch(`${server.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer k' }, body: '{"text":"fine"}' });
  t.equal(ok.status, 200, 'POST /api/predict still predicts');
  await ok.arrayBuffer();
});

t.test('with CORS on, OPTIONS is the preflight\'s and Allow names it', async (t) => {
  const withCors = await startTestService({ CORS_ORIGINS: 'https://app.example.com' });
  t.teardown(() => withCors.close());
  const wrong = await request(`${withCors.url}/api/predict/batch`, { method: 'PUT' });
  await wrong.body.text();
  t.equal(wrong.statusCode, 405);
  t.equal(wrong.headers.allow, 'POST, OPTIONS', 'Allow lists OPTIONS');
  const preflight = await request(`${withCors.url}/api/predict/batch`, { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } });
  await preflight.body.text();
  t.equal(preflight.statusCode, 204, 'OPTIONS answers the preflight');
});
