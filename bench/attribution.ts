// Where a replica's CPU goes per text answered, by what it was spent on: the per-text CPU of each thread role
// (main thread, workers, other threads; measured from /proc over a run's window, bench/cpu.ts) split by the
// shares that V8 CPU profiles of the same load give each category on that role's threads
// (bench/profile-summary.ts categories). ONNX Runtime's share is split again into the tokens the texts
// have and their padding, by the run's padding ratio.
//
//   npx tsx bench/attribution.ts --results bench/results/compare-DATE.json --system service --profiles DIR
//
// The profiles come from a separate run under --cpu-prof (profiling slows the replicas, so its own CPU is
// not used): its shares are applied to the measured run's CPU. V8 samples by wall clock, so on a busy
// machine a thread waiting for a core still counts what it was running; the shares are an estimate, the
// per-role CPU is exact.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { category, type CpuProfile } from './profile-summary.js';
import type { ThreadRole } from './cpu.js';

/** The row of ONNX Runtime's own time, which the table splits into real tokens and padding. */
export const ORT_BUCKET = 'ONNX Runtime';

/** What the table's rows are, by profile category. */
export const BUCKETS: [string, (category: string) => boolean][] = [
  // First: its category's name holds "fastify" too.
  ['metrics (Prometheus client, fastify-metrics)', (c) => /Prometheus client/.test(c)],
  ['HTTP (node http/net, Fastify, validation, serialization, JSON)', (c) => /node http|fastify|ajv|fast-json-stringify|JSON/.test(c)],
  ['thread hand-offs (piscina, worker messaging)', (c) => /piscina|\(native\) (postMessage|receiveMessageOnPort)/.test(c)],
  ['logging (pino)', (c) => /pino/.test(c)],
  ['garbage collection', (c) => c === 'garbage collection'],
  ['tokenizing (@huggingface/tokenizers)', (c) => c === 'tokenizers'],
  [ORT_BUCKET, (c) => c === 'onnxruntime-node'],
  ['tensor building and run planning (inference/)', (c) => c === 'service: inference/'],
  ['service code: queue, calls, routes (batching, core, server: promises, objects, logic)', (c) => /^service:/.test(c)],
];
export const OTHER = 'other (V8 and Node internals, not attributed)';

export interface AttributionRow {
  role: ThreadRole;
  bucket: string;
  msPerText: number;
}

/** Busy-time shares per bucket of a set of profiles (idle excluded). */
export function bucketShares(profiles: readonly CpuProfile[]): Map<string, number> {
  const time = new Map<string, number>();
  let busy = 0;
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    profile.samples.forEach((id, i) => {
      const name = category(byId.get(id)!.callFrame);
      if (name === 'idle') return;
      const dt = profile.timeDeltas[i] ?? 0;
      const bucket = BUCKETS.find(([, matches]) => matches(name))?.[0] ?? OTHER;
      time.set(bucket, (time.get(bucket) ?? 0) + dt);
      busy += dt;
    });
  }
  return new Map([...time].map(([bucket, t]) => [bucket, busy > 0 ? t / busy : 0]));
}

/**
 * The role of a profile's thread: thread 0 is the main thread; a worker that spent more sampled time in ONNX
 * Runtime than in the tokenizer ran batches, one that spent more in the tokenizer tokenized (the design that
 * had tokenizer threads); any other (the file-hashing thread) is one of the process's other threads.
 */
export function profileRole(file: string, profile: CpuProfile): ThreadRole {
  const threadId = Number(/^CPU\.[^.]+\.[^.]+\.\d+\.(\d+)\./.exec(file)?.[1] ?? 0);
  if (threadId === 0) return 'main';
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  let model = 0;
  let tokenizer = 0;
  profile.samples.forEach((id, i) => {
    const name = category(byId.get(id)!.callFrame);
    if (name === 'onnxruntime-node') model += profile.timeDeltas[i] ?? 0;
    else if (name === 'tokenizers') tokenizer += profile.timeDeltas[i] ?? 0;
  });
  if (model === 0 && tokenizer === 0) return 'other threads';
  return model >= tokenizer ? 'workers' : 'tokenizer workers';
}

/**
 * The table: each role's CPU per text (ms) split by its profiles' shares; `other threads` stay one row. ONNX
 * Runtime on the workers is split into real tokens and padding by `paddingRatio` (padded ÷ real tokens).
 */
export function attribute(msPerTextByRole: Partial<Record<ThreadRole, number>>, profiles: { role: ThreadRole; profile: CpuProfile }[], paddingRatio: number | undefined): AttributionRow[] {
  const shares = new Map<ThreadRole, Map<string, number>>();
  for (const role of Object.keys(msPerTextByRole) as ThreadRole[]) {
    if (role === 'other threads') shares.set(role, new Map([['V8 helper threads (garbage collection, compiler), libuv pool', 1]]));
    else shares.set(role, bucketShares(profiles.filter((p) => p.role === role).map((p) => p.profile)));
  }
  return attributeShares(msPerTextByRole, shares, paddingRatio);
}

/**
 * Each role's CPU per text (ms) split by `sharesByRole` (bucket → share of the role's time, summing to 1). ONNX
 * Runtime on the workers is split into real tokens and padding by `paddingRatio` (padded ÷ real tokens).
 */
export function attributeShares(msPerTextByRole: Partial<Record<ThreadRole, number>>, sharesByRole: ReadonlyMap<ThreadRole, ReadonlyMap<string, number>>, paddingRatio: number | undefined): AttributionRow[] {
  const rows: AttributionRow[] = [];
  for (const [role, msPerText] of Object.entries(msPerTextByRole) as [ThreadRole, number][]) {
    const shares = sharesByRole.get(role) ?? new Map<string, number>();
    if (shares.size === 0) {
      rows.push({ role, bucket: '(no profile of this thread role)', msPerText });
      continue;
    }
    for (const [bucket, share] of [...shares].sort((a, b) => b[1] - a[1])) {
      const ms = msPerText * share;
      if (bucket === ORT_BUCKET && paddingRatio !== undefined && paddingRatio > 1) {
        rows.push({ role, bucket: 'ONNX Runtime: the texts\' own tokens', msPerText: ms / paddingRatio });
        rows.push({ role, bucket: 'ONNX Runtime: padding', msPerText: ms - ms / paddingRatio });
      } else {
        rows.push({ role, bucket, msPerText: ms });
      }
    }
  }
  return rows;
}

export function attributionMarkdown(rows: readonly AttributionRow[]): string {
  const total = rows.reduce((sum, row) => sum + row.msPerText, 0);
  const lines = ['| Thread | Spent on | CPU ms per text | Share |', '|---|---|---:|---:|'];
  for (const row of rows) lines.push(`| ${row.role} | ${row.bucket} | ${row.msPerText.toFixed(4)} | ${((row.msPerText / total) * 100).toFixed(1)} % |`);
  lines.push(`| all | | **${total.toFixed(4)}** | 100 % |`);
  return lines.join('\n');
}

export function readProfiles(dir: string): { role: ThreadRole; profile: CpuProfile }[] {
  return readdirSync(dir).filter((file) => file.endsWith('.cpuprofile')).map((file) => {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    return { role: profileRole(file, profile), profile };
  });
}

interface ResultsFile {
  systems: { id: string; runs: { connections: number; textsPerSecond: number; cpu: { threads?: Record<string, Partial<Record<ThreadRole, number>>> }; server?: { paddingRatio?: number | null } }[] }[];
}

/**
 * Each thread role's CPU per text (ms) of run `runIndex` of `system` in a compare results file, and the run's
 * padding ratio; exits with a message when the run has no per-thread CPU.
 */
export function runCpuPerText(resultsPath: string, system: string, runIndex: number): { msPerText: Partial<Record<ThreadRole, number>>; paddingRatio: number | undefined } {
  const results = JSON.parse(readFileSync(resultsPath, 'utf8')) as ResultsFile;
  const run = results.systems.find((s) => s.id === system)?.runs[runIndex];
  const threads = run?.cpu.threads?.replicas;
  if (run === undefined || threads === undefined) {
    process.stderr.write(`no run of ${system} with per-thread CPU in ${resultsPath}\n`);
    process.exit(1);
  }
  const msPerText = Object.fromEntries(Object.entries(threads).map(([role, cores]) => [role, (cores * 1000) / run.textsPerSecond])) as Partial<Record<ThreadRole, number>>;
  return { msPerText, paddingRatio: run.server?.paddingRatio ?? undefined };
}

function main(): void {
  const { values } = parseArgs({ options: { results: { type: 'string' }, system: { type: 'string', default: 'service' }, profiles: { type: 'string' }, run: { type: 'string' } } });
  if (values.results === undefined || values.profiles === undefined) {
    process.stderr.write('usage: npx tsx bench/attribution.ts --results FILE.json --profiles DIR [--system service] [--run N]\n');
    process.exit(2);
  }
  const { msPerText, paddingRatio } = runCpuPerText(values.results, values.system, Number(values.run ?? 0));
  process.stdout.write(`${attributionMarkdown(attribute(msPerText, readProfiles(values.profiles), paddingRatio))}\n`);
}

// Not perf-attribution.ts, which imports this module.
if (/(^|\/)attribution\.[jt]s$/.test(process.argv[1] ?? '')) main();
