// Where a replica's CPU time went, from the V8 CPU profiles that `npm run bench -- <scenario> --cpu-prof DIR`
// writes (one .cpuprofile per thread: the main thread and the workers):
//
//   npx tsx bench/profile-summary.ts DIR [--top 25]
//
// Prints, per profile, the share of sampled time by category (idle, GC, native/ONNX Runtime calls, node's
// HTTP, Fastify, schema validation and serialization, metrics, logging, our own modules, ...) and the
// functions with the most self time. Self time of a native call made from JavaScript (an ORT session run,
// a tokenizer call) is counted on the JavaScript function that called it when V8 shows no native frame.
// A piscina worker waiting for a task blocks in Atomics.wait() (atomicsWaitLoop): counted as idle.
// Samples are wall-clock: on a busy machine a thread waiting for a core still shows what it was running.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const CATEGORIES: [string, RegExp][] = [
  ['idle', /^\(idle\)$/],
  ['garbage collection', /^\(garbage collector\)$/],
  ['(program: V8/native, not attributed)', /^\(program\)$/],
  ['onnxruntime-node', /onnxruntime/],
  ['tokenizers', /@huggingface\/tokenizers/],
  ['piscina / worker messaging', /piscina|node:internal\/worker|internal\/per_context\/messageport/],
  ['ajv (request validation)', /\/ajv|fast-uri/],
  ['fast-json-stringify (response serialization)', /fast-json-stringify|serializer/],
  ['fastify-metrics / Prometheus client', /fastify-metrics|@prometheus-io\/client/],
  ['pino (logging)', /pino|sonic-boom|thread-stream/],
  ['fastify', /fastify|avvio|find-my-way|light-my-request|@fastify/],
  ['node http / net / streams', /node:_http|node:http|node:net|node:internal\/(http|streams|stream_base|net|timers|async_hooks|process\/task_queues)|node:events|node:stream/],
  ['JSON (parse/stringify)', /^JSON\.|^(parse|stringify)$/],
  ['service: batching/', /\/batching\//],
  ['service: core/', /\/core\//],
  ['service: bulk/', /\/bulk\//],
  ['service: inference/', /\/inference\//],
  ['service: server/', /\/server\//],
  ['other node internals', /^node:/],
];

export function category(frame: ProfileNode['callFrame']): string {
  // A piscina worker with no task blocks in Atomics.wait() inside this function: waiting, not working.
  if (frame.functionName === 'atomicsWaitLoop' && frame.url.includes('piscina')) return 'idle';
  const key = frame.url === '' ? frame.functionName : frame.url;
  for (const [name, pattern] of CATEGORIES) if (pattern.test(key) || (frame.url === '' && pattern.test(frame.functionName))) return name;
  if (frame.url.includes('node_modules/')) return `node_modules: ${/node_modules\/((@[^/]+\/)?[^/]+)/.exec(frame.url)?.[1] ?? '?'}`;
  return frame.url === '' ? `(native) ${frame.functionName || 'anonymous'}` : 'other';
}

function shortUrl(url: string): string {
  return url.replace(/^file:\/\/.*?\/(node_modules|dist|server|batching|inference)\//, '$1/').replace(/^file:\/\//, '');
}

export function summarize(profile: CpuProfile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, time] of self) {
    const frame = byId.get(id)!.callFrame;
    categories.set(category(frame), (categories.get(category(frame)) ?? 0) + time);
    const name = `${frame.functionName || '(anonymous)'} ${frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : ''}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + time);
  }
  const busy = total - (categories.get('idle') ?? 0);
  const pct = (t: number, of: number) => `${((t / (of || 1)) * 100).toFixed(1).padStart(5)}%`;
  const lines = [`  sampled ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${pct(busy, total).trim()})`, '  by category (share of busy time):'];
  for (const [name, time] of [...categories].sort((a, b) => b[1] - a[1])) {
    if (name === 'idle') continue;
    lines.push(`    ${pct(time, busy)}  ${name}`);
  }
  lines.push(`  top ${top} functions by self time (share of busy time):`);
  for (const [name, time] of [...functions].filter(([n]) => !n.startsWith('(idle)') && !n.startsWith('atomicsWaitLoop')).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`    ${pct(time, busy)}  ${name}`);
  }
  return lines.join('\n');
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  const dir = positionals[0];
  if (!dir) {
    process.stderr.write('usage: npx tsx bench/profile-summary.ts DIR [--top 25]\n');
    process.exit(2);
  }
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  if (files.length === 0) {
    process.stderr.write(`no .cpuprofile in ${dir}\n`);
    process.exit(1);
  }
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    process.stdout.write(`${file}\n${summarize(profile, Number(values.top))}\n\n`);
  }
}

if (process.argv[1]?.endsWith('profile-summary.ts') || process.argv[1]?.endsWith('profile-summary.js')) main();
