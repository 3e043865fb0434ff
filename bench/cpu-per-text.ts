// What a replica spends per text answered, against what its parts cost alone, measured in the same run on
// the same cores: ONNX Runtime alone (R_ort: its sessions × threads ÷ its throughput), the tokenizer alone
// (R_tok) and HTTP (the no-op Fastify replicas behind the same NGINX). What is left is the service's own
// plumbing: thread hand-offs, promises and objects, metrics, queueing, the padding its batches add.
import type { Check, Results, SystemRun } from './report.js';
import type { SystemId } from './system-ids.js';

export interface CpuPerText {
  system: SystemId;
  /** CPU ms per text answered, by part; `left` = replicas − ort − tokenizer − http. */
  replicas: number;
  /** The replicas' CPU by thread role (main, workers, other threads). */
  threads: Record<string, number>;
  ort: number | undefined;
  tokenizer: number | undefined;
  http: number | undefined;
  left: number | undefined;
}

const perText = (cores: number, textsPerSecond: number) => (cores * 1000) / textsPerSecond;

function runAt(results: Pick<Results, 'systems'>, id: SystemId, connections: number): SystemRun | undefined {
  return results.systems.find((s) => s.id === id)?.runs.find((r) => r.connections === connections);
}

/** The table's rows for every service-like system that ran at `connections`. */
export function cpuPerText(results: Pick<Results, 'systems' | 'ceilings'>, connections: number): CpuPerText[] {
  const ort = results.ceilings.ort && 'tweetsPerSecond' in results.ceilings.ort ? results.ceilings.ort : undefined;
  const tok = results.ceilings.tok && 'tweetsPerSecond' in results.ceilings.tok ? results.ceilings.tok : undefined;
  const noop = runAt(results, 'noop', connections);
  const ortMs = ort ? perText(ort.sessions * ort.threads, ort.tweetsPerSecond) : undefined;
  const tokMs = tok ? perText(tok.threads, tok.tweetsPerSecond) : undefined;
  const httpMs = noop && noop.textsPerSecond > 0 ? perText(noop.cpu.cores.replicas ?? 0, noop.textsPerSecond) : undefined;
  const rows: CpuPerText[] = [];
  for (const system of ['service', 'baseline', 'service-direct'] as const) {
    const run = runAt(results, system, connections);
    if (!run || !(run.textsPerSecond > 0)) continue;
    const replicas = perText(run.cpu.cores.replicas ?? 0, run.textsPerSecond);
    const threads = Object.fromEntries(Object.entries(run.cpu.threads?.replicas ?? {}).map(([role, cores]) => [role, perText(cores ?? 0, run.textsPerSecond)]));
    const left = ortMs !== undefined && tokMs !== undefined && httpMs !== undefined ? replicas - ortMs - tokMs - httpMs : undefined;
    rows.push({ system, replicas, threads, ort: ortMs, tokenizer: tokMs, http: httpMs, left });
  }
  return rows;
}

const ms = (value: number | undefined) => (value === undefined ? '–' : value.toFixed(3));

export function cpuPerTextMarkdown(rows: readonly CpuPerText[], connections: number): string[] {
  if (rows.length === 0) return [];
  const lines = [
    `## CPU per text answered (${connections} connections)`, '',
    'CPU ms each replica spent per text answered, against what each part costs alone on the same cores in the same run: ONNX Runtime (R_ort\'s threads ÷ its throughput), the tokenizer (R_tok\'s), HTTP (the no-op replicas behind the same NGINX). **Left** is the rest: thread hand-offs, promises and objects, metrics, queueing, extra padding.', '',
    `| Part | ${rows.map((row) => row.system).join(' | ')} |`,
    `|---|${rows.map(() => '---:').join('|')}|`,
    `| replicas, all threads | ${rows.map((row) => ms(row.replicas)).join(' | ')} |`,
  ];
  const roles = [...new Set(rows.flatMap((row) => Object.keys(row.threads)))];
  for (const role of roles) lines.push(`| of which ${role} | ${rows.map((row) => ms(row.threads[role])).join(' | ')} |`);
  lines.push(
    `| ONNX Runtime alone (R_ort) | ${rows.map((row) => ms(row.ort)).join(' | ')} |`,
    `| tokenizer alone (R_tok) | ${rows.map((row) => ms(row.tokenizer)).join(' | ')} |`,
    `| HTTP (no-op replicas) | ${rows.map((row) => ms(row.http)).join(' | ')} |`,
    `| **left** | ${rows.map((row) => `**${ms(row.left)}**`).join(' | ')} |`,
    '',
  );
  return lines;
}

/** With a baseline in the run: the service's "left" at most half the baseline's. */
export function leftCheck(rows: readonly CpuPerText[]): Check | undefined {
  const service = rows.find((row) => row.system === 'service');
  const baseline = rows.find((row) => row.system === 'baseline');
  if (service?.left === undefined || baseline?.left === undefined) return undefined;
  return {
    name: 'CPU left per text (replicas − ONNX Runtime − tokenizer − HTTP) against the baseline',
    target: '≤ ½ of the baseline\'s',
    measured: `${service.left.toFixed(3)} vs ${baseline.left.toFixed(3)} ms (${(service.left / baseline.left).toFixed(2)}×)`,
    met: service.left <= baseline.left / 2,
  };
}
