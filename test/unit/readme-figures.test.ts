// Every benchmark figure the README quotes is what the committed result files it names say: the README's
// benchmark section is compared with bench/results/<scenario>-<date>.json, rounded as the README rounds.
// New results (`npm run bench`) with an old README, or a README edited by hand, fail here.
import { readFileSync } from 'node:fs';
import t from 'tap';
import type { OrtCeiling, Results, SystemRun } from '../../bench/report.js';

const ROOT = new URL('../..', import.meta.url);
const readme = readFileSync(new URL('README.md', ROOT), 'utf8');
const section = readme.slice(readme.indexOf('<!-- bench:start -->'), readme.indexOf('<!-- bench:end -->'));
/** The section with every run of white space as one space: a claim may wrap anywhere. */
const flat = section.replace(/\s+/g, ' ');
const says = (claim: string) => flat.includes(claim.replace(/\s+/g, ' '));

/** A link to a result file of a scenario: `(bench/results/<scenario>-<date>[-<tag>].md)`, its name captured. */
const resultLink = (scenario: string) => new RegExp(`\\(bench/results/(${scenario}-\\d{4}-\\d{2}-\\d{2}(?:-[a-z0-9-]+)?)\\.md\\)`);

/** The first result file of a scenario the section links to, read as its `.json`. */
function linked(scenario: string): Results {
  const match = resultLink(scenario).exec(section);
  if (!match) throw new Error(`the README's benchmark section links no bench/results/${scenario}-*.md`);
  return JSON.parse(readFileSync(new URL(`bench/results/${match[1]}.json`, ROOT), 'utf8')) as Results;
}

const compare = linked('compare');
const sweep = linked('sweep');
const run = (results: Results, id: string, connections = 500): SystemRun => {
  const found = results.systems.find((system) => system.id === id)?.runs.find((r) => r.connections === connections);
  if (!found) throw new Error(`${results.scenario}: no ${id} run at ${connections} connections`);
  return found;
};
/** 2849.4 → "2,849": the README's whole numbers, with thousands separators. */
const whole = (value: number) => Math.round(value).toLocaleString('en-US');
const fixed = (value: number, digits: number) => value.toFixed(digits);
/** R_ort of a results file, which a run may have skipped (then these checks fail, as they should). */
function ortOf(results: Results): OrtCeiling {
  const ort = results.ceilings.ort;
  if (ort === null || 'skipped' in ort) throw new Error(`${results.scenario}: no R_ort (${ort?.skipped ?? 'not run'})`);
  return ort;
}
const ortCeiling = ortOf(compare);
/** The result file of one named run, linked from the section as bench/results/<name>.md. */
function named(name: string): Results {
  t.ok(section.includes(`(bench/results/${name}.md)`), `the section links bench/results/${name}.md`);
  return JSON.parse(readFileSync(new URL(`bench/results/${name}.json`, ROOT), 'utf8')) as Results;
}

t.test('the machine line is the machine of the results', async (t) => {
  const { machine } = compare;
  t.same(sweep.machine.cpuModel, machine.cpuModel, 'both files come from one machine');
  t.match(section, `(${machine.cpuModel.replace(/\(R\)| Processor$/g, '')}, ${machine.availableCpus} vCPUs, ${machine.memoryGiB} GiB`);
  t.match(section, `Node ${machine.node.replace(/^v/, '')}`);
  t.match(section, `onnxruntime-node ${machine.onnxruntimeNode}`);
  t.match(section, `NGINX ${(machine.nginx ?? '').replace(/^nginx\//, '')}`);
  t.match(section, `${machine.availableCpus}-core ${machine.cpuModel.replace(/\(R\)| Processor$/g, '')} VM`, 'the figures name the machine');
});

t.test('the table: req/s, p50, p99 and failures of every system at 500 connections', async (t) => {
  const rows: [string, string][] = [
    ['This service, 2 replicas behind NGINX', 'service'],
    ['This service, 1 replica, direct', 'service-direct'],
    ['Batching off (`MAX_BATCH_SIZE=1`), 2 replicas behind NGINX', 'batching-off'],
    ['The Flask + PyTorch design this service replaces (gunicorn, per-request inference), direct', 'seed'],
    ['R_http: no-op Fastify with the same schemas, 2 replicas behind NGINX', 'noop'],
  ];
  for (const [title, id] of rows) {
    const r = run(compare, id);
    const failures = r.errors + r.timeouts + r.non2xx + r.invalid;
    const failuresText = id === 'service' ? `${failures} of ${whole(r.requests)}` : String(failures);
    const row = `| ${title} | ${whole(r.requestsPerSecond)} | ${r.latency.p50} | ${whole(r.latency.p99)} | ${failuresText} |`;
    t.ok(says(row), `row ${id}: ${row}`);
  }
  const peer = run(compare, 'transformersjs');
  t.ok(says(`| ${whole(peer.requestsPerSecond)} | ${peer.latency.p50} | ${whole(peer.latency.p99)} | ${peer.timeouts} timeouts |`), 'row transformers.js');
  t.equal(peer.errors, peer.timeouts, 'transformers.js: every error was a timeout');
  t.equal(peer.non2xx + peer.invalid, 0, 'transformers.js: no other failure');
  const grouping = ortCeiling.grouping === 'length' ? ' grouped by length' : ' in arrival order';
  t.ok(says(`| R_ort: ONNX Runtime alone, batch ${ortCeiling.batch}${grouping}, ${ortCeiling.sessions} sessions × ${ortCeiling.threads} thread, no HTTP | ${whole(ortCeiling.tweetsPerSecond)} tweets/s |`), 'row R_ort');
});

t.test('the ratios and ceilings in the bullets', async (t) => {
  const service = run(compare, 'service');
  const direct = run(compare, 'service-direct');
  const off = run(compare, 'batching-off');
  const flask = run(compare, 'seed');
  const peer = run(compare, 'transformersjs');
  const C = compare.ceilings.composed!;
  const ort = ortCeiling.tweetsPerSecond;
  const tok = (compare.ceilings.tok as { tweetsPerSecond: number }).tweetsPerSecond;
  const claims = [
    `**${fixed(service.textsPerSecond / off.textsPerSecond, 2)}×** the throughput, p99 ${service.latency.p99} vs ${off.latency.p99} ms`,
    `**${fixed(service.textsPerSecond / flask.textsPerSecond, 2)}×** behind NGINX`,
    `(${fixed(direct.textsPerSecond / flask.textsPerSecond, 2)}× for one replica direct`,
    `p99 at ${fixed(service.latency.p99 / flask.latency.p99, 2)}× the Flask app's`,
    `5× this Flask run would be ${whole(5 * flask.textsPerSecond)} req/s, ${fixed(5 * flask.textsPerSecond / C, 2)} × C`,
    `C = 1 / (1/R_ort + 1/R_http) = ${whole(C)}/s: **${fixed(service.textsPerSecond / C, 2)} × C** behind NGINX`,
    `one replica direct reaches ${fixed(direct.textsPerSecond / C, 2)} × C`,
    `replicas ${fixed((service.cpu?.cores.replicas ?? NaN) / service.textsPerSecond * 1000, 2)} ms`,
    `ONNX Runtime ≈ ${fixed(Math.floor(2 / ort * 1000 * 100) / 100, 2)} ms (R_ort: 2 cores ÷ ${whole(ort)}/s)`,
    `NGINX ${fixed((service.cpu?.cores.nginx ?? NaN) / service.textsPerSecond * 1000, 2)} ms`,
    `**${fixed(service.textsPerSecond / peer.textsPerSecond, 2)}×** the throughput with p99 at ${fixed(service.latency.p99 / peer.latency.p99, 2)}× its p99 (${service.latency.p99} vs ${peer.latency.p99.toLocaleString('en-US')} ms)`,
    `(p50 ${peer.latency.p50} ms)`,
    `(R_tok = ${whole(tok)} tweets/s on 2 threads), C3 = ${whole(compare.ceilings.composed3!)}/s and the service is at ${fixed(service.textsPerSecond / compare.ceilings.composed3!, 2)} × C3`,
    `the tokenizer ≈ ${fixed(2 / tok * 1000, 2)} ms`,
    `(padding ratio ${fixed(service.server!.paddingRatio!, 2)}:`,
  ];
  for (const claim of claims) t.ok(says(claim), claim);
});

t.test('the sweep', async (t) => {
  const range = (id: string) => {
    const runs = sweep.systems.find((system) => system.id === id)!.runs.filter((r) => r.connections >= 50);
    const rates = runs.map((r) => r.requestsPerSecond);
    return `${whole(Math.min(...rates))}-${whole(Math.max(...rates))}`;
  };
  t.ok(says(`batching on serves ${range('service')} req/s from 50 connections up, batching off ${range('batching-off')};`), 'sweep ranges');
  const failures = sweep.systems.flatMap((system) => system.runs).reduce((sum, r) => sum + r.errors + r.timeouts + r.non2xx, 0);
  t.equal(failures, 0, 'and "no errors, timeouts or non-2xx at any point" is true');
  t.ok(says('no errors, timeouts or non-2xx at any point'));
});

t.test('one connection against one raw inference (shipped model)', async (t) => {
  const c1 = named('sweep-2026-12-04-c1-cadence');
  const lone = run(c1, 'service', 1);
  const direct = run(c1, 'service-direct', 1);
  const noop = run(c1, 'noop', 1);
  const single = c1.ceilings.single as { p50Ms: number; paused: { pauseMs: number; p50Ms: number } };
  t.ok(says(`p50 ${fixed(lone.latency.p50, 3)} ms, mean ${fixed(lone.latency.mean, 3)} ms, against ${fixed(single.p50Ms, 2)} ms for one raw ONNX Runtime call`), 'latency at 1 connection');
  t.ok(says(`with ${fixed(lone.server!.meanQueueWaitMs!, 3)} ms mean queue wait`), 'queue wait at 1 connection');
  t.ok(says(`the worker's own time per text (tokenizing and the model) is ${fixed(lone.server!.meanInferenceMs!, 2)} ms at the mean`), 'the worker at 1 connection');
  t.ok(says(`the raw call itself takes ${fixed(single.paused.p50Ms, 3)} ms when each run follows a ${single.paused.pauseMs} ms pause`), 'the paused raw call');
  t.ok(says(`One replica direct: p50 ${fixed(direct.latency.p50, 2)} ms; the no-op replicas through the same NGINX: p50 ${fixed(noop.latency.p50, 3)} ms`), 'direct and no-op at 1 connection');
  t.ok(lone.latency.p50 - single.p50Ms > 0.5, '"is not met" is true');
});

t.test('the RoBERTa-base-sized model: fp32 and int8 at 128 connections, the chosen threads, the shipped model in int8', async (t) => {
  const fp32 = named('compare-2026-12-03-roberta-base-128');
  const q8 = named('compare-2026-12-03-roberta-base-q8-128');
  const sized = named('compare-2026-12-03-roberta-base-q8-sizing');
  const fp32Raw = named('compare-2026-12-03-roberta-base-fp32-ort');
  const row = (r: SystemRun, ort?: { tweetsPerSecond: number; batch: number }) =>
    `| ${fixed(r.textsPerSecond, 1)} | ${whole(r.latency.p50)} | ${whole(r.latency.p99)} | ${ort ? `${whole(ort.tweetsPerSecond)} tweets/s (batch ${ort.batch} by length) | ${fixed(r.textsPerSecond / ort.tweetsPerSecond, 2)} |` : '| |'}`;
  const at128 = run(fp32, 'service', 128);
  const q8At128 = run(q8, 'service', 128);
  const sizedAt128 = run(sized, 'service-direct', 128);
  t.equal(ortOf(q8).dtype, 'q8');
  t.equal(ortOf(fp32Raw).dtype, 'fp32');
  t.same((q8.sizing as { serviceEnv: Record<string, string> }).serviceEnv, { MODEL_DTYPE: 'q8' }, 'the int8 run sets nothing else');
  t.same((sized.sizing as { serviceEnv: Record<string, string> }).serviceEnv, { MODEL_DTYPE: 'q8', WORKERS: '', INTRA_OP_THREADS: '' }, 'the sized run leaves the threads to the service');
  for (const claim of [
    row(at128, ortOf(fp32)), row(q8At128, ortOf(q8)), row(sizedAt128),
    `**int8 is ${fixed(ortOf(q8).tweetsPerSecond / ortOf(fp32Raw).tweetsPerSecond, 1)}× fp32 raw** (R_ort ${whole(ortOf(q8).tweetsPerSecond)} against ${whole(ortOf(fp32Raw).tweetsPerSecond)} tweets/s`,
    `${fixed(q8At128.textsPerSecond / at128.textsPerSecond, 1)}× through the service (${fixed(q8At128.textsPerSecond, 1)} against ${fixed(at128.textsPerSecond, 1)} texts/s)`,
    `(padding ratio ${fixed(ortOf(q8).paddingRatio!, 2)}), the service can only sort the texts of one batch (padding ${fixed(at128.server!.paddingRatio!, 2)} in fp32, ${fixed(q8At128.server!.paddingRatio!, 2)} in int8)`,
    `answers a lone text in ${run(sized, 'service-direct', 1).latency.p50} ms at p50 (one raw fp32 call on one thread: ${fixed((fp32Raw.ceilings.single as { p50Ms: number }).p50Ms, 1)} ms)`,
    `(${fixed(sizedAt128.textsPerSecond, 1)} against ${fixed(q8At128.textsPerSecond, 1)} texts/s`,
  ]) t.ok(says(claim), claim);
  const shipQ8 = ortOf(named('compare-2026-12-03-ship-ort-q8'));
  const shipFp32 = ortOf(named('compare-2026-12-03-ship-ort-fp32'));
  t.ok(says(`R_ort ${whole(shipQ8.tweetsPerSecond)} against ${whole(shipFp32.tweetsPerSecond)} tweets/s in fp32`), 'the shipped model in int8');
  t.ok(shipQ8.tweetsPerSecond < shipFp32.tweetsPerSecond * 1.05, '"gains nothing" is true');

  const shedding = named('compare-2026-12-01-roberta-base-c500');
  const shed500 = run(shedding, 'service', 500);
  const shed128 = run(shedding, 'service', 128);
  t.ok(says(`at 500 connections the service answered ${shed500.statusCodes['200']} requests in time, refused ${whole(shed500.statusCodes['503'] ?? 0)} with 503 and ${shed500.statusCodes['504'] ?? 0} with 504, and ${shed500.timeouts} timed out`), 'deadline shedding at 500 connections');
  t.ok(says(`at 128 connections it answered all ${shed128.statusCodes['200']}, none refused`) && shed128.non2xx === 0 && shed128.timeouts === 0, 'deadline shedding at 128 connections');
});

t.test('the GPU runs: service ÷ raw loop, batching on ÷ off and fp16 parity, from the reports linked', async (t) => {
  interface GpuLevel { connections: number; okPerSecond: number; latency: { p99: number } }
  interface GpuReport {
    environment: { gpu: string; provider: string };
    raw: { fp16: { runs: { kind: string; batch: number; seqPerSec: number }[] } };
    service: { fp16: { levels: GpuLevel[] }; batchingOff: { levels: GpuLevel[] } };
    parity: { texts: number; labelAgreement: number };
    checks: { target: number; value: number; pass: boolean }[];
  }
  const reports = ['gpu-nvidia-h200-2026-12-04', 'gpu-nvidia-h200-2026-12-04-run2'].map((name) => named(name) as unknown as GpuReport);
  const at500 = (levels: GpuLevel[]) => levels.find((level) => level.connections === 500)!;
  const both = (value: (report: GpuReport) => string) => `${value(reports[0]!)} and ${value(reports[1]!)}`;
  for (const report of reports) {
    t.equal(report.environment.gpu, 'NVIDIA H200');
    t.equal(report.environment.provider, 'webgpu');
    t.ok(report.checks.every((check) => check.pass), 'every target of the report passed');
    t.ok(report.parity.labelAgreement >= 0.995, 'fp16 labels agree on at least 99.5 %');
  }
  const rawTweets = (report: GpuReport) => report.raw.fp16.runs.find((run) => run.kind === 'tweets' && run.batch === 128)!.seqPerSec;
  for (const claim of [
    `the service answered ${both((r) => whole(at500(r.service.fp16.levels).okPerSecond))} texts/s (p99 ${both((r) => whole(at500(r.service.fp16.levels).latency.p99))} ms), **${both((r) => fixed(r.checks[0]!.value, 3))} ×**`,
    `(${both((r) => whole(rawTweets(r)))} tweets/s at batch 128); target ${reports[0]!.checks[0]!.target}`,
    `(\`MAX_BATCH_SIZE=1\`, ${both((r) => whole(at500(r.service.batchingOff.levels).okPerSecond))} texts/s): **${both((r) => `${fixed(r.checks[1]!.value, 1)}×`)}**; target ${reports[0]!.checks[1]!.target}`,
    `the top label agrees on **${fixed(reports[0]!.parity.labelAgreement * 100, 0)} %** of ${reports[0]!.parity.texts} validation tweets`,
  ]) t.ok(says(claim), claim);
  t.equal(reports[1]!.parity.labelAgreement, reports[0]!.parity.labelAgreement, 'both runs agree on parity, as the section says once');
});

t.test('the bulk paragraph (outside the benchmark section) is the bulk run it links', async (t) => {
  interface BulkRuns { textsPerSecond: number; rounds: { textsPerSecond: number }[] }
  interface BulkResults {
    repeat: number;
    input: { count: number };
    ceilings: { ort: { tweetsPerSecond: number }; tok: { tweetsPerSecond: number }; cBulk: number };
    inProcess: BulkRuns;
    stream: BulkRuns;
    warmupStream: { textsPerSecond: number };
    fairness: { streamLines: number; alone: { latency: { p99: number } }; withStream: { latency: { p99: number } } };
  }
  const match = resultLink('bulk').exec(readme);
  if (!match) throw new Error('the README links no bench/results/bulk-*.md');
  const bulk = JSON.parse(readFileSync(new URL(`bench/results/${match[1]}.json`, ROOT), 'utf8')) as BulkResults;
  const paragraph = readme.slice(match.index, readme.indexOf('\n\n', match.index)).replace(/\s+/g, ' ');
  const { cBulk } = bulk.ceilings;
  const ratio = (runs: BulkRuns) => `${fixed(runs.textsPerSecond / cBulk, 2)} × C_bulk`;
  for (const claim of [
    `the ${whole(bulk.input.count)} training tweets`,
    `the median of ${bulk.repeat} alternating rounds`,
    `C_bulk = 1 / (1/R_ort + 1/R_tok) = ${whole(cBulk)} tweets/s (R_ort ${whole(bulk.ceilings.ort.tweetsPerSecond)}, R_tok ${whole(bulk.ceilings.tok.tweetsPerSecond)})`,
    `in-process ${whole(bulk.inProcess.textsPerSecond)} texts/s (${ratio(bulk.inProcess)})`,
    `through the stream ${whole(bulk.stream.textsPerSecond)} texts/s (${ratio(bulk.stream)})`,
    `a fresh replica's first stream ran at ${whole(bulk.warmupStream.textsPerSecond)} texts/s`,
    `a p99 of ${bulk.fairness.withStream.latency.p99} ms while a ${whole(bulk.fairness.streamLines)}-line stream ran (${bulk.fairness.alone.latency.p99} ms alone)`,
  ]) t.ok(paragraph.includes(claim), claim);
});
