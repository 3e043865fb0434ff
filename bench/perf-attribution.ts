// Where a replica's CPU goes per text answered, from Linux perf samples of the replicas' threads taken during
// the measured window of a run (`npm run bench -- <scenario> --perf DIR`, bench/perf-record.ts). perf samples
// a thread only while it runs on a core (cpu-clock), so unlike V8's profiler, whose samples follow the wall
// clock, a thread waiting for a core or for the kernel to schedule it counts nothing: the shares are of CPU
// time. Each sample's call chain (V8's JIT code keeps frame pointers; --perf-basic-prof names its functions)
// decides its row: garbage collection and the JIT compiler wherever they appear in the chain, ONNX Runtime
// below any of its frames, the kernel by what the syscall served (sockets, thread wake-ups), and otherwise
// the nearest JavaScript function by its module, in the rows of the V8-profile attribution (attribution.ts).
//
//   npx tsx bench/perf-attribution.ts --results bench/results/compare-DATE.json --system service --perf DIR/service-c500.perf.txt
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BUCKETS, ORT_BUCKET, OTHER, attributeShares, attributionMarkdown, runCpuPerText } from './attribution.js';
import { threadRole, type ThreadRole } from './cpu.js';
import { category } from './profile-summary.js';

/** One perf sample: its thread and its call chain, innermost frame first. */
export interface PerfSample {
  pid: number;
  tid: number;
  comm: string;
  frames: { symbol: string; dso: string }[];
}

export const GC_BUCKET = 'garbage collection';
export const COMPILER_BUCKET = 'V8 compiler (JIT, lazy compilation)';
export const KERNEL_NETWORK_BUCKET = 'kernel: sockets and TCP (HTTP\'s syscalls, loopback delivery)';
export const KERNEL_WAKEUP_BUCKET = 'thread hand-offs: kernel wake-ups (futex, event fds)';
export const KERNEL_OTHER_BUCKET = 'kernel: other (scheduling, page faults, timers)';
export const NATIVE_BUCKET = 'V8 and Node internals with no JavaScript caller (event loop, promise jobs)';
export const LIBC_BUCKET = 'C library: memory copies and allocation, caller not recorded';
const HTTP_BUCKET = BUCKETS.find(([name]) => name.startsWith('HTTP'))![0];
const HANDOFF_BUCKET = BUCKETS.find(([name]) => name.startsWith('thread hand-offs'))![0];

const GC_FRAME = /v8::internal::(Heap::|Scavenger|ScavengerCollector|MarkCompact|MinorMarkSweep|ConcurrentMarking|Sweeper|GCTracer|IncrementalMarking|MemoryAllocator|SemiSpace|PagedSpace::|LocalHeap::CollectGarbage)/;
const COMPILER_FRAME = /v8::internal::(compiler::|maglev::|baseline::|Compiler::|OptimizingCompileDispatcher|Parser::|Scanner::|interpreter::BytecodeGenerator)|Builtins_CompileLazy/;
const ORT_DSO = /onnxruntime/;
const NETWORK_FRAME = /tcp_|sock_|inet_|ip_|__dev_queue_xmit|net_rx|do_softirq|ep_poll|epoll|__x64_sys_(read|write|writev|recvfrom|sendto)|unix_stream/;
const WAKEUP_FRAME = /futex|eventfd|pipe_write|try_to_wake_up/;
// Native frames with no JavaScript caller: Node's HTTP parser and socket reads call into JavaScript, not the
// other way round; messages between threads are (de)serialized by V8 for the MessagePort.
const NATIVE_HTTP_FRAME = /http_parser|llhttp|LibuvStreamWrap|StreamBase|uv__read|uv__write|uv__stream_io/;
const NATIVE_HANDOFF_FRAME = /ValueSerializer|ValueDeserializer|MessagePort|worker::Message/;
// The C library is built without frame pointers: its frames usually end the chain, so their caller is unknown.
const LIBC_DSO = /libc\.so|libstdc\+\+/;

/** Parses `perf script -F comm,pid,tid,ip,sym,dso` output. */
export function parsePerfScript(text: string): PerfSample[] {
  const samples: PerfSample[] = [];
  let current: PerfSample | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    if (!line.startsWith('\t') && !line.startsWith(' ')) {
      // "comm pid/tid": the thread name may hold spaces.
      const match = /^(.*?)\s+(\d+)\/(\d+)\s*$/.exec(line);
      if (match === null) continue;
      current = { comm: match[1]!, pid: Number(match[2]), tid: Number(match[3]), frames: [] };
      samples.push(current);
      continue;
    }
    const frame = /^\s*[0-9a-f]+\s+(.*)\s+\((.*)\)\s*$/.exec(line);
    if (current !== undefined && frame !== null) current.frames.push({ symbol: frame[1]!, dso: frame[2]! });
  }
  return samples;
}


/** A JavaScript frame as perf names it with --perf-basic-prof: "JS:*name url:line:column" (or "LazyCompile:"). */
function jsFrame(symbol: string): { functionName: string; url: string; lineNumber: number } | undefined {
  const match = /^(?:JS|LazyCompile|Function):[*~^+-]?(\S*)\s+(\S+?)(?::\d+:\d+)?$/.exec(symbol) ?? /^(?:JS|LazyCompile|Function):[*~^+-]?\s*(\S*)$/.exec(symbol);
  if (match === null) return undefined;
  return { functionName: match[1] ?? '', url: match[2] ?? '', lineNumber: 0 };
}

/** The row a sample counts in. */
export function sampleBucket(sample: PerfSample): string {
  const { frames } = sample;
  if (frames.some((f) => GC_FRAME.test(f.symbol))) return GC_BUCKET;
  if (frames.some((f) => COMPILER_FRAME.test(f.symbol))) return COMPILER_BUCKET;
  if (frames.some((f) => ORT_DSO.test(f.dso) || /onnxruntime/.test(f.symbol))) return ORT_BUCKET;
  const leaf = frames[0];
  if (leaf !== undefined && leaf.dso.includes('kernel')) {
    const kernel = frames.filter((f) => f.dso.includes('kernel'));
    if (kernel.some((f) => WAKEUP_FRAME.test(f.symbol))) return KERNEL_WAKEUP_BUCKET;
    if (kernel.some((f) => NETWORK_FRAME.test(f.symbol))) return KERNEL_NETWORK_BUCKET;
    return KERNEL_OTHER_BUCKET;
  }
  for (const frame of frames) {
    const js = jsFrame(frame.symbol);
    if (js === undefined) continue;
    const name = category(js);
    return BUCKETS.find(([, matches]) => matches(name))?.[0] ?? OTHER;
  }
  if (frames.some((f) => NATIVE_HTTP_FRAME.test(f.symbol))) return HTTP_BUCKET;
  if (frames.some((f) => NATIVE_HANDOFF_FRAME.test(f.symbol))) return HANDOFF_BUCKET;
  if (leaf !== undefined && LIBC_DSO.test(leaf.dso) && frames.slice(1).every((f) => f.symbol === '[unknown]' || LIBC_DSO.test(f.dso))) return LIBC_BUCKET;
  return NATIVE_BUCKET;
}

/** Each role's share of samples per row (summing to 1 per role). */
export function perfShares(samples: readonly PerfSample[]): Map<ThreadRole, Map<string, number>> {
  const counts = new Map<ThreadRole, Map<string, number>>();
  for (const sample of samples) {
    const role = threadRole(sample.pid, sample.tid, sample.comm);
    const rows = counts.get(role) ?? new Map<string, number>();
    const bucket = sampleBucket(sample);
    rows.set(bucket, (rows.get(bucket) ?? 0) + 1);
    counts.set(role, rows);
  }
  return new Map([...counts].map(([role, rows]) => {
    const total = [...rows.values()].reduce((a, b) => a + b, 0);
    return [role, new Map([...rows].map(([bucket, n]) => [bucket, n / total]))];
  }));
}

function main(): void {
  const { values } = parseArgs({ options: { results: { type: 'string' }, system: { type: 'string', default: 'service' }, perf: { type: 'string' }, run: { type: 'string' } } });
  if (values.results === undefined || values.perf === undefined) {
    process.stderr.write('usage: npx tsx bench/perf-attribution.ts --results FILE.json --perf FILE.perf.txt [--system service] [--run N]\n');
    process.exit(2);
  }
  const { msPerText, paddingRatio } = runCpuPerText(values.results, values.system, Number(values.run ?? 0));
  const samples = parsePerfScript(readFileSync(values.perf, 'utf8'));
  process.stdout.write(`${samples.length} samples\n\n${attributionMarkdown(attributeShares(msPerText, perfShares(samples), paddingRatio))}\n`);
}

if (process.argv[1]?.endsWith('perf-attribution.ts') || process.argv[1]?.endsWith('perf-attribution.js')) main();
