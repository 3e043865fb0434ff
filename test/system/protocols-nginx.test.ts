// The protocol routes through NGINX (the project's nginx.conf, rendered for loopback as in test/system/deploy.test.ts)
// to two replicas of the built service with API keys on: every new path reaches the replicas; health stays
// open; prediction, tokenizer and metadata routes need a key; /metrics and the admin API stay unreachable.
// Needs `npm run build` first and nginx installed.
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startLocalNginx, startReplica, type Nginx, type Replica } from '../../deploy/local-stack.js';

const work = mkdtempSync(join(tmpdir(), 'protocols-nginx-'));
const env = { API_KEYS: 'edge-key', CACHE_SIZE: '0' };
const replicas: Replica[] = await Promise.all([startReplica({ env }), startReplica({ env })]);
const nginx: Nginx = await startLocalNginx({ dir: join(work, 'nginx'), upstreams: replicas.map((replica) => replica.address) });
t.teardown(async () => {
  await nginx.stop();
  await Promise.all(replicas.map((replica) => replica.stop()));
  rmSync(work, { recursive: true, force: true });
});

const KEY = { authorization: 'Bearer edge-key' };
const v2Input = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['what a great game'] }] };

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${nginx.url}${path}`, {
    method, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

/** Sends the path exactly as written (fetch would normalize `/v2/../metrics`). */
function raw(method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: nginx.port, method, path, agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); });
    req.on('error', reject);
    req.end();
  });
}

t.test('health routes are open through NGINX and reach the replicas', async (t) => {
  for (const path of ['/health', '/v2/health/live', '/v2/health/ready', '/v2/models/sentiment/ready']) {
    const res = await call('GET', path);
    t.equal(res.status, 200, `GET ${path} without a key`);
  }
});

t.test('prediction, tokenizer and metadata routes need a key, and answer with one', async (t) => {
  const routes: [string, string, unknown, string][] = [
    ['POST', '/predict', { inputs: 'I love it' }, 'tei'],
    ['POST', '/', { inputs: [['I love it'], ['I hate it']] }, 'tei'],
    ['GET', '/info', undefined, 'tei'],
    ['POST', '/tokenize', { inputs: 'I love it' }, 'tei'],
    ['POST', '/decode', { ids: [101, 102] }, 'tei'],
    ['POST', '/hf/text-classification', { inputs: 'I love it' }, 'tei'],
    ['GET', '/v2', undefined, 'v2'],
    ['GET', '/v2/models/sentiment', undefined, 'v2'],
    ['POST', '/v2/models/sentiment/infer', v2Input, 'v2'],
  ];
  for (const [method, path, body, shape] of routes) {
    const refused = await call(method, path, body);
    t.equal(refused.status, 401, `${method} ${path} without a key`);
    t.same(Object.keys(refused.body).sort(), shape === 'tei' ? ['error', 'error_type'] : ['error'], `${method} ${path}: ${shape} error shape`);
    const allowed = await call(method, path, body, KEY);
    t.equal(allowed.status, 200, `${method} ${path} with a key`);
  }
});

t.test('the new routes are balanced over both replicas', async (t) => {
  // This test's lines are told apart by their user agent, not counted from an offset that a late line of an
  // earlier test would shift.
  const agent = `balance-${process.pid}`;
  const paths = ['/predict', '/v2/models/sentiment/infer', '/hf/text-classification'];
  await Promise.all(Array.from({ length: 30 }, (_, i) => {
    const path = paths[i % 3]!;
    return call('POST', path, path.startsWith('/v2') ? v2Input : { inputs: `tweet ${i}` }, { ...KEY, 'user-agent': agent });
  }));
  const entries = await nginx.awaitAccessLog((entry) => entry.user_agent === agent, 30);
  const upstreams = new Set(entries.map((entry) => String(entry.upstream_addr)));
  t.equal(entries.length, 30, 'one log line per call');
  t.equal(entries.filter((entry) => entry.status === 200).length, 30, 'all 30 answered 200');
  t.same([...upstreams].sort(), replicas.map((replica) => replica.address).sort(), 'both replicas served');
});

t.test('/metrics and the admin API stay unreachable, whatever the path', async (t) => {
  for (const path of ['/metrics', '/v2/../metrics', '/predict/../metrics', '/hf/../metrics', '/api/admin/reload', '/v2/../api/admin/reload']) {
    t.equal(await raw(path.includes('admin') ? 'POST' : 'GET', path), 404, path);
  }
  t.notOk(nginx.accessLog().some((entry) => /metrics|admin/.test(String(entry.uri)) && entry.upstream_addr !== ''), 'none reached a replica');
});
