// The per-text CPU attribution of a replica (bench/attribution.ts): each thread role's measured CPU split by
// its profiles' shares, ONNX Runtime split into the texts' tokens and padding, threads told apart by profile.
import t from 'tap';
import { attribute, bucketShares, profileRole } from '../../bench/attribution.js';
import type { CpuProfile } from '../../bench/profile-summary.js';

/** A profile whose samples spend `weights` (µs) on functions from these urls. */
function profile(weights: Record<string, number>): CpuProfile {
  const entries = Object.entries(weights);
  const nodes = entries.map(([url], i) => ({ id: i + 1, callFrame: { functionName: url === '' ? '(idle)' : 'f', url, lineNumber: 0 } }));
  return { nodes, samples: entries.map((_, i) => i + 1), timeDeltas: entries.map(([, w]) => w), startTime: 0, endTime: 1 };
}

t.test('shares per bucket leave idle time out', async (t) => {
  const shares = bucketShares([profile({ '': 500, 'file:///x/node_modules/fastify/lib/route.js': 300, 'file:///x/node_modules/@prometheus-io/client/lib/counter.js': 100, 'file:///x/dist/core/predictor.js': 100 })]);
  t.equal(shares.get('HTTP (node http/net, Fastify, validation, serialization, JSON)'), 0.6);
  t.equal(shares.get('metrics (Prometheus client, fastify-metrics)'), 0.2);
  t.equal(shares.get('service code: queue, calls, routes (batching, core, server: promises, objects, logic)'), 0.2);
});

t.test('each role\'s CPU is split by its own profiles; ONNX Runtime into tokens and padding', async (t) => {
  const main = profile({ 'node:_http_server': 50, 'file:///x/node_modules/piscina/dist/index.js': 50 });
  const worker = profile({ 'file:///x/node_modules/onnxruntime-node/dist/backend.js': 75, 'file:///x/node_modules/@huggingface/tokenizers/dist/index.js': 25 });
  const rows = attribute({ main: 0.2, workers: 0.4, 'other threads': 0.01 }, [{ role: 'main', profile: main }, { role: 'workers', profile: worker }], 1.25);
  const of = (bucket: string) => rows.find((row) => row.bucket.startsWith(bucket))!.msPerText;
  t.equal(of('HTTP'), 0.1);
  t.equal(of('thread hand-offs'), 0.1);
  t.equal(of('tokenizing'), 0.1);
  t.ok(Math.abs(of('ONNX Runtime: the texts') - 0.24) < 1e-12, '0.3 ms of ONNX Runtime ÷ 1.25');
  t.ok(Math.abs(of('ONNX Runtime: padding') - 0.06) < 1e-12);
  t.equal(of('V8 helper threads'), 0.01);
  t.ok(Math.abs(rows.reduce((sum, row) => sum + row.msPerText, 0) - 0.61) < 1e-12, 'nothing lost or counted twice');
});

t.test('a profile\'s thread: 0 is main; a worker by what it spent most on, the model or the tokenizer', async (t) => {
  const ort = profile({ 'file:///x/node_modules/onnxruntime-node/dist/backend.js': 1 });
  const tok = profile({ 'file:///x/node_modules/@huggingface/tokenizers/dist/index.js': 1 });
  t.equal(profileRole('CPU.20261203.101500.1234.0.001.cpuprofile', ort), 'main');
  t.equal(profileRole('CPU.20261203.101500.1234.2.002.cpuprofile', ort), 'workers');
  t.equal(profileRole('CPU.20261203.101500.1234.3.003.cpuprofile', tok), 'tokenizer workers');
  const hashing = profile({ 'node:internal/crypto/hash': 1 });
  t.equal(profileRole('CPU.20261203.101500.1234.4.004.cpuprofile', hashing), 'other threads', 'neither the model nor the tokenizer: another of the process\'s threads');
});
