// Fair sharing: a bulk stream does not starve interactive callers. 50 connections of POST /api/predict run
// for a few seconds alone, then again while a stream of STREAM_LINES lines runs on the same server
// process; every single call succeeds and their p99 stays under P99_BOUND_MS. The stream holds at most
// its window (256 texts) in the queue, and the batcher serves the oldest text first, so a single call
// waits behind at most one window of bulk texts, whatever the stream's length.
import t from 'tap';
import { runLoad, type LoadResult } from '../helpers/load.js';
import { validationTexts } from '../helpers/data.js';
import { generatedLines, postStream } from '../helpers/ndjson.js';
import { startServerProcess } from '../helpers/process.js';
import { FIXTURES } from '../helpers/service.js';

/**
 * Stated bound on the p99 of single calls while a stream runs: no starvation, every call answered, p99 under
 * 1 s (a tenth of REQUEST_TIMEOUT_MS). Measured on the shared 2-core VM (bert-tiny; server, stream client and
 * load on the same cores): 87-140 ms alone, 250-515 ms with the stream, which meanwhile gets 85-90 % of the
 * texts scored (its 256-text window against 50 one-text callers; the batcher serves the oldest text first).
 */
const P99_BOUND_MS = 1_000;
const STREAM_LINES = Number(process.env.BULK_FAIRNESS_LINES ?? 200_000);
const LOAD_MS = 4_000;
/** JIT and ONNX Runtime's arenas reach their working size before the first measured load. */
const WARMUP_MS = 2_000;

function p99(results: LoadResult[]): number {
  const latencies = results.map((r) => r.receivedAt - r.sentAt).sort((a, b) => a - b);
  return latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? Infinity;
}

t.test(`50 connections of /api/predict keep p99 < ${P99_BOUND_MS} ms while a ${STREAM_LINES.toLocaleString('en-US')}-line stream runs`, async (t) => {
  const server = await startServerProcess({ MODEL_PATH: `${FIXTURES}bert-tiny`, WORKERS: '2', INTRA_OP_THREADS: '1', CACHE_SIZE: '0' });
  t.teardown(() => { server.child.kill('SIGKILL'); });
  const texts = validationTexts();
  const load = (durationMs = LOAD_MS) => runLoad({ url: server.url, connections: 50, durationMs, body: (n) => ({ text: texts[n % texts.length] }) });

  await load(WARMUP_MS);
  const alone = await load();

  const answer = await postStream(server.url, generatedLines(STREAM_LINES));
  let streamed = 0;
  let flowing!: () => void;
  const firstAnswer = new Promise<void>((resolve) => { flowing = resolve; });
  const draining = (async () => {
    for await (const _ of answer.lines) if (++streamed === 1) flowing();
  })();
  // The load starts once the stream is flowing: its first answer is back (or it ended, which the checks catch).
  await Promise.race([firstAnswer, draining.catch(() => undefined)]);
  const before = streamed;
  const shared = await load();
  const duringStream = streamed - before;
  const streamFinished = streamed >= STREAM_LINES;
  answer.destroy();
  await draining.catch(() => undefined);

  const ok = (r: { statusCounts: Record<number, number>; errors: number; results: LoadResult[] }) => r.errors === 0 && (r.statusCounts[200] ?? 0) === r.results.length;
  t.ok(ok(alone) && ok(shared), `every single call answered 200 (alone ${JSON.stringify(alone.statusCounts)}, with the stream ${JSON.stringify(shared.statusCounts)})`);
  t.notOk(streamFinished, 'the stream was still running when the load ended');
  t.ok(duringStream > 0, `the stream advanced by ${duringStream} lines (${Math.round(duringStream / (LOAD_MS / 1000))}/s) during the load`);
  const rate = (n: number) => Math.round(n / (LOAD_MS / 1000));
  t.ok(p99(shared.results) < P99_BOUND_MS, `p99 of single calls: ${p99(alone.results).toFixed(1)} ms alone (${rate(alone.results.length)} req/s), ${p99(shared.results).toFixed(1)} ms with the stream (${rate(shared.results.length)} req/s)`);
});
