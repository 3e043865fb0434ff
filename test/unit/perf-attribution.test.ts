// bench/perf-attribution.ts: perf's samples of the replicas' threads, each counted in one row by its call chain.
// The chains below are as `perf script -F comm,pid,tid,ip,sym,dso` printed them under load.
import t from 'tap';
import { ORT_BUCKET } from '../../bench/attribution.js';
import {
  COMPILER_BUCKET, GC_BUCKET, KERNEL_NETWORK_BUCKET, KERNEL_WAKEUP_BUCKET, LIBC_BUCKET, NATIVE_BUCKET, parsePerfScript, perfShares, sampleBucket,
} from '../../bench/perf-attribution.js';
import { threadRole } from '../../bench/cpu.js';

const NODE = '/repo/node_modules/node/bin/node';
const frame = (symbol: string, dso: string) => `\t${'7f25200b0b3c'} ${symbol} (${dso})`;
const sample = (head: string, ...frames: string[]) => [head, ...frames, ''].join('\n');

const SCRIPT = [
  sample('sentiment-work 100/102 ',
    frame('Builtins_FindOrderedHashMapEntry', NODE),
    frame('JS:* file:///repo/node_modules/@huggingface/tokenizers/dist/tokenizers.mjs:3024:34', '/tmp/perf-100.map'),
    frame('JS:*scoreBatch file:///repo/dist/inference/score-batch.js:9:33', '/tmp/perf-100.map')),
  sample('sentiment-work 100/102 ',
    frame('MlasSgemmKernelAvx512F', '/repo/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1'),
    frame('onnxruntime::InferenceSession::Run', '/repo/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1')),
  sample('sentiment-work 100/102 ', frame('__memmove_avx512_unaligned_erms', '/usr/lib/x86_64-linux-gnu/libc.so.6'), frame('[unknown]', '[unknown]')),
  sample('sentiment-work 100/102 ',
    frame('v8::internal::ValueDeserializer::ReadObject', NODE),
    frame('node::worker::MessagePort::OnMessage', NODE)),
  sample('node 100/100 ',
    frame('tcp_sendmsg_locked', '[kernel.kallsyms]'),
    frame('sock_write_iter', '[kernel.kallsyms]'),
    frame('writev', '/usr/lib/x86_64-linux-gnu/libc.so.6'),
    frame('node::StreamBase::Writev', NODE),
    frame('JS:*writevGeneric node:internal/stream_base_commons:121:22', '/tmp/perf-100.map')),
  sample('node 100/100 ',
    frame('futex_wake', '[kernel.kallsyms]'),
    frame('do_futex', '[kernel.kallsyms]'),
    frame('JS:*postTask file:///repo/node_modules/piscina/dist/worker_pool/index.js:116:13', '/tmp/perf-100.map')),
  sample('node 100/100 ',
    frame('v8::internal::Scavenger::ScavengeObject<v8::internal::FullHeapObjectSlot>', NODE),
    frame('JS:*runBatch file:///repo/dist/core/batch-runner.js:11:31', '/tmp/perf-100.map')),
  sample('node 100/100 ',
    frame('llhttp__internal_execute', NODE),
    frame('node::http_parser::Parser::Execute', NODE),
    frame('uv__read', NODE)),
  sample('node 100/100 ',
    frame('Builtins_LoadIC', NODE),
    frame('JS:*observe file:///repo/node_modules/@prometheus-io/client/lib/histogram.js:237:9', '/tmp/perf-100.map')),
  sample('node 100/100 ', frame('uv__io_poll', NODE), frame('uv_run', NODE)),
  sample('node 100/107 ',
    frame('v8::internal::compiler::GraphReducer::ReduceTop', NODE),
    frame('v8::platform::DefaultJobWorker::Run', NODE)),
].join('\n');

t.test('perf script text parses into samples with their thread and innermost-first call chain', async (t) => {
  const samples = parsePerfScript(SCRIPT);
  t.equal(samples.length, 11);
  t.same(samples.map((s) => threadRole(s.pid, s.tid, s.comm)), ['workers', 'workers', 'workers', 'workers', 'main', 'main', 'main', 'main', 'main', 'main', 'other threads']);
  t.same(samples[0]!.frames[0], { symbol: 'Builtins_FindOrderedHashMapEntry', dso: NODE });
  t.equal(samples[0]!.frames.length, 3);
  t.equal(threadRole(5, 9, 'sentiment-tok'), 'tokenizer workers', 'the older design\'s tokenizer threads');
});

t.test('each sample counts in one row, by its call chain', async (t) => {
  const buckets = parsePerfScript(SCRIPT).map(sampleBucket);
  t.match(buckets[0], /^tokenizing/, 'a V8 builtin under the tokenizer\'s JavaScript: tokenizing');
  t.equal(buckets[1], ORT_BUCKET, 'below ONNX Runtime\'s library');
  t.equal(buckets[2], LIBC_BUCKET, 'a C library copy whose caller perf could not follow');
  t.match(buckets[3], /^thread hand-offs \(piscina/, 'a message from the main thread being deserialized');
  t.equal(buckets[4], KERNEL_NETWORK_BUCKET, 'the kernel sending on a socket, whoever called it');
  t.equal(buckets[5], KERNEL_WAKEUP_BUCKET, 'waking a worker');
  t.equal(buckets[6], GC_BUCKET, 'a scavenge, wherever it interrupted');
  t.match(buckets[7], /^HTTP/, 'Node\'s HTTP parser, which has no JavaScript caller');
  t.match(buckets[8], /^metrics/, 'the Prometheus client');
  t.equal(buckets[9], NATIVE_BUCKET, 'the event loop itself');
  t.equal(buckets[10], COMPILER_BUCKET, 'the optimizing compiler on a helper thread');
});

t.test('shares per thread role sum to one', async (t) => {
  const shares = perfShares(parsePerfScript(SCRIPT));
  t.same([...shares.keys()].sort(), ['main', 'other threads', 'workers']);
  for (const [role, rows] of shares) t.ok(Math.abs([...rows.values()].reduce((a, b) => a + b, 0) - 1) < 1e-12, `${role} sums to 1`);
  t.equal(shares.get('workers')!.get(ORT_BUCKET), 0.25);
  t.equal(shares.get('other threads')!.get(COMPILER_BUCKET), 1);
});
