// The README, .env.example and OpenAPI stay true to the code: tables are rendered from the code's own lists
// (server/docs-tables.ts) and must match the committed files; every route and error code is documented.
import { readFileSync } from 'node:fs';
import t from 'tap';
import * as batchingErrors from '../../batching/errors.js';
import * as inferenceErrors from '../../inference/errors.js';
import * as coreErrors from '../../core/errors.js';
import * as httpErrors from '../../server/http-errors.js';
import { SETTINGS } from '../../core/config.js';
import { configTable, envExample, errorTable } from '../../server/docs-tables.js';
import { errorEntries } from '../../server/http-errors.js';
import { getJson, startTestService } from '../helpers/service.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function section(name: string): string {
  const start = readme.indexOf(`<!-- ${name}:start -->`);
  const end = readme.indexOf(`<!-- ${name}:end -->`);
  return readme.slice(start + `<!-- ${name}:start -->`.length, end).trim();
}

t.test('the README configuration table is the code\'s (run `npm run docs` after changing a setting)', async (t) => {
  t.equal(section('config-table'), configTable());
  for (const setting of SETTINGS) t.match(readme, `\`${setting.env}\``, setting.env);
});

t.test('.env.example lists every setting', async (t) => {
  t.equal(readFileSync(new URL('../../.env.example', import.meta.url), 'utf8'), envExample());
});

t.test('the README error table is the code\'s, and every error class of every layer is in it', async (t) => {
  t.equal(section('error-table'), errorTable());
  const documented = new Set(errorEntries().map((entry) => entry.code));
  // Every class with a code that the modules export, found by reading the modules: a new one cannot be missed.
  const modules = [batchingErrors, inferenceErrors, coreErrors, httpErrors];
  const codes = modules.flatMap((module) => Object.values(module))
    .filter((value): value is { code: string } => typeof value === 'function' && typeof (value as { code?: unknown }).code === 'string')
    .map((errorClass) => errorClass.code);
  t.ok(codes.length >= 8, `${codes.length} error classes found`);
  // An execution provider that cannot start stops the service at start-up: no client ever receives it.
  for (const code of codes) if (code !== inferenceErrors.ExecutionProviderError.code) t.ok(documented.has(code), `${code} is documented`);
  for (const code of Object.keys(coreErrors.CORE_ERRORS)) t.ok(documented.has(code), `${code} (the core's) has a status`);
});

t.test('every route of the OpenAPI document is in the README', async (t) => {
  const server = await startTestService();
  t.teardown(() => server.close());
  const doc = await getJson(`${server.url}/docs/json`);
  for (const [path, operations] of Object.entries<Record<string, unknown>>(doc.body.paths)) {
    for (const method of Object.keys(operations)) t.match(readme, `${method.toUpperCase()} ${path}`, `${method.toUpperCase()} ${path}`);
  }
});

t.test('OpenAPI says what keys and limits do: security, 401 and 429 on the guarded routes, /metrics, x-cache', async (t) => {
  const open = await startTestService();
  const openDoc = (await getJson(`${open.url}/docs/json`)).body;
  await open.close();
  t.notOk(openDoc.paths['/api/predict'].post.security, 'without API_KEYS no key is asked for');
  t.notOk(openDoc.paths['/api/predict'].post.responses['401']);

  const guarded = await startTestService({ API_KEYS: 'client-key', RATE_LIMIT_MAX: '100' });
  t.teardown(() => guarded.close());
  const doc = (await getJson(`${guarded.url}/docs/json`)).body;
  for (const [path, method] of [['/api/predict', 'post'], ['/api/predict/batch', 'post'], ['/api/model', 'get']] as const) {
    const operation = doc.paths[path][method];
    t.same(operation.security, [{ bearer: [] }, { apiKey: [] }], `${path}: a key from API_KEYS, as Bearer or X-API-Key`);
    t.ok(operation.responses['401'] && operation.responses['429'], `${path}: 401 and 429 documented`);
  }
  t.same(Object.keys(doc.components.securitySchemes).sort(), ['apiKey', 'bearer']);
  t.notOk(doc.paths['/api/health'].get.security, 'health stays open');
  t.ok(doc.paths['/metrics']?.get.responses['200'].content['text/plain'], 'GET /metrics is documented as text');
  t.ok(doc.paths['/api/predict'].post.responses['200'].headers['x-cache'], 'the x-cache header is documented');
  const responses = Object.values<Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>>(doc.paths)
    .flatMap((operations) => Object.values(operations).flatMap((operation) => Object.values(operation.responses)));
  t.ok(responses.length > 50 && responses.every((response) => response.headers?.['x-request-id'] !== undefined), `x-request-id is documented on all ${responses.length} responses`);
  t.match(doc.info.description, /405 with `Allow`.*compressed.*CORS_ORIGINS/, 'the description says what 405, compression and CORS do');
});
