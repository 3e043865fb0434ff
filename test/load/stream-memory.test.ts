// Bounded memory whatever the input's size: a stream of generated lines (made on the fly, never stored)
// through POST /api/predict/stream of a server process, and through the command line in-process; the
// resident memory of each process, sampled every 100 ms, stays within RSS_BOUND of its idle level.
//
// The suite runs 100,000 lines through each (seconds with the bert-tiny fixture on 2 cores);
// BULK_MEMORY_LINES=1000000 runs the full million through both (see the README's bulk-scoring section for
// the figures measured that way).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import { ROOT, killOnExit, waitUntil } from '../../deploy/local-stack.js';
import { generatedLines, postStream } from '../helpers/ndjson.js';
import { startServerProcess } from '../helpers/process.js';
import { rssBytes } from '../helpers/rss.js';
import { FIXTURES } from '../helpers/service.js';

const MiB = 1024 * 1024;
/**
 * Stated bound: growth of a process's RSS over its idle level while it streams, whatever its length. On the
 * 2-core machine with bert-tiny the server and the CLI each grow by about 130-160 MiB, the same at 100,000
 * lines as at 1,000,000: the growth is reached within the first 100,000 lines and flat after (V8's heap
 * headroom between collections, not the input: a longer stream does not raise it).
 */
const RSS_BOUND = 200 * MiB;
const SERVER_LINES = Number(process.env.BULK_MEMORY_LINES ?? 100_000);
const CLI_LINES = Number(process.env.BULK_MEMORY_LINES ?? 100_000);
const ENV = { MODEL_PATH: `${FIXTURES}bert-tiny`, WORKERS: '2', INTRA_OP_THREADS: '1' };

function sampler(pid: number) {
  let peak = 0;
  const timer = setInterval(() => { try { peak = Math.max(peak, rssBytes(pid)); } catch { /* exited */ } }, 100);
  return { stop: () => { clearInterval(timer); return peak; } };
}

t.test(`${SERVER_LINES.toLocaleString('en-US')} lines through POST /api/predict/stream: server RSS within ${RSS_BOUND / MiB} MiB of idle`, async (t) => {
  const server = await startServerProcess(ENV);
  t.teardown(() => { server.child.kill('SIGKILL'); });
  const pid = server.child.pid!;
  // Warm-up: JIT, ONNX Runtime arenas and the tokenizers reach their working size before "idle" is read.
  const warm = await postStream(server.url, generatedLines(5_000));
  for await (const _ of warm.lines) { /* drained */ }
  const idle = rssBytes(pid);
  const sampling = sampler(pid);
  const started = performance.now();
  const answer = await postStream(server.url, generatedLines(SERVER_LINES));
  let lines = 0;
  let errors = 0;
  for await (const line of answer.lines) {
    if (line.id !== lines) throw new Error(`answer ${lines} has id ${line.id}`);
    if (line.error !== undefined) errors++;
    lines++;
  }
  const seconds = (performance.now() - started) / 1000;
  const peak = Math.max(sampling.stop(), rssBytes(pid));
  t.equal(lines, SERVER_LINES, 'every line answered, in order');
  t.equal(errors, 0);
  t.ok(peak - idle < RSS_BOUND, `server RSS idle ${(idle / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB (+${((peak - idle) / MiB).toFixed(0)} MiB) over ${SERVER_LINES} lines in ${seconds.toFixed(1)} s (${Math.round(SERVER_LINES / seconds)} lines/s)`);
});

t.test(`${CLI_LINES.toLocaleString('en-US')} lines through the command line in-process: CLI RSS within ${RSS_BOUND / MiB} MiB of idle`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bulk-memory-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'out.jsonl');
  const child = spawn(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'score', '-', '--format', 'jsonl', '--out', out, '--quiet'], {
    cwd: ROOT, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...ENV }, stdio: ['pipe', 'ignore', 'pipe'],
  });
  killOnExit(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const pid = child.pid!;
  // Idle: the engine started (workers warm) and the first 5,000 lines through, as for the server: their
  // answers are in the output file.
  const answered = () => { try { return readFileSync(out, 'utf8').split('\n').length - 1; } catch { return 0; } };
  let idle = 0;
  let sampling: ReturnType<typeof sampler> | undefined;
  let sent = 0;
  async function* input(): AsyncGenerator<string> {
    for await (const chunk of generatedLines(CLI_LINES)) {
      if (sampling === undefined && sent >= 5_000) {
        const first = sent;
        await waitUntil(() => answered() >= first, { timeoutMs: 60_000, intervalMs: 50, what: `the CLI's answers to the first ${first} lines` });
        idle = rssBytes(pid);
        sampling = sampler(pid);
      }
      sent += chunk.split('\n').length - 1;
      yield chunk;
    }
  }
  const started = performance.now();
  Readable.from(input()).pipe(child.stdin);
  const code = await exited;
  const seconds = (performance.now() - started) / 1000;
  const peak = sampling?.stop() ?? 0;
  t.equal(code, 0, `the CLI exits 0 ${stderr}`);
  t.ok(idle > 0 && peak - idle < RSS_BOUND, `CLI RSS idle ${(idle / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB (+${((peak - idle) / MiB).toFixed(0)} MiB) over ${CLI_LINES} lines in ${seconds.toFixed(1)} s`);
  const lines = Number((await import('node:child_process')).execFileSync('wc', ['-l', out], { encoding: 'utf8' }).trim().split(/\s+/)[0]);
  t.equal(lines, CLI_LINES, 'one output line per input line');
});
