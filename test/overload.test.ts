// Overload and soak, against the real server process: 2,000 connections on one replica for 30 s, then
// 200,000 requests of every length. The process must live, shed with 503 rather than queue without bound,
// keep its memory bounded, and be ready again within seconds.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { runLoad } from './helpers/load.js';
import { startServerProcess } from './helpers/process.js';
import { rssBytes } from './helpers/rss.js';

const texts = readFileSync(new URL('../../shared/data/tweeteval-sentiment/validation.jsonl', import.meta.url), 'utf8')
  .trim().split('\n').map((line) => (JSON.parse(line) as { text: string }).text);

/** Samples a process's RSS every 100 ms until stopped; returns the samples. */
function sampleRss(pid: number) {
  const samples: number[] = [];
  const timer = setInterval(() => { try { samples.push(rssBytes(pid)); } catch { /* exited */ } }, 100);
  return { samples, stop: () => clearInterval(timer) };
}

const RSS_BOUND = 1024 * 1024 * 1024;

t.test('2,000 connections for 30 s: alive, only 200/429/503, RSS under 1 GiB, ready again within 5 s', async (t) => {
  // The slow fixture (~25 ms per batch) and a short queue, so that the load really overflows it.
  const server = await startServerProcess({
    MODEL_PATH: new URL('./fixtures/slow-tiny', import.meta.url).pathname,
    WORKERS: '2', INTRA_OP_THREADS: '1', MAX_QUEUE: '256', RATE_LIMIT_MAX: '0', LOG_LEVEL: 'error',
  });
  t.teardown(() => { server.child.kill('SIGKILL'); });
  const rss = sampleRss(server.child.pid!);
  const summary = await runLoad({
    url: server.url, connections: 2000, durationMs: 30_000,
    body: (n) => ({ text: texts[n % texts.length] }),
    keep: (result) => result.status !== 200 && result.status !== 503,
  });
  rss.stop();
  const statuses = Object.keys(summary.statusCounts).map(Number);
  t.comment(`requests ${summary.sent}, statuses ${JSON.stringify(summary.statusCounts)}, transport errors ${summary.errors}, peak RSS ${(Math.max(...rss.samples) / 2 ** 20).toFixed(0)} MiB`);
  t.equal(server.child.exitCode, null, 'the process is alive');
  t.equal(summary.errors, 0, 'every request got an HTTP answer');
  t.ok(statuses.every((status) => [200, 429, 503].includes(status)), `only 200, 429, 503: ${statuses.join(', ')}`);
  t.ok((summary.statusCounts[503] ?? 0) > 0, 'the queue overflowed and shed with 503');
  t.ok((summary.statusCounts[200] ?? 0) > 0, 'while it kept answering');
  t.ok(Math.max(...rss.samples) < RSS_BOUND, 'RSS stayed under 1 GiB');
  const stoppedAt = performance.now();
  let ready = 0;
  while (performance.now() - stoppedAt < 5000) {
    ready = (await fetch(`${server.url}/api/ready`)).status;
    if (ready === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.equal(ready, 200, `ready again ${Math.round(performance.now() - stoppedAt)} ms after the load stopped`);
});

t.test('soak: 200,000 requests of 1 to 5,000 characters; RSS at the end within 15 % of RSS after 20,000', async (t) => {
  const server = await startServerProcess({
    MODEL_PATH: new URL('./fixtures/bert-tiny', import.meta.url).pathname,
    // The fixture model is cheap; tokenizing texts of thousands of characters is most of the work here.
    WORKERS: '1', INTRA_OP_THREADS: '1', TOKENIZER_THREADS: '2', LOG_LEVEL: 'error',
  });
  t.teardown(() => { server.child.kill('SIGKILL'); });
  // Lengths from 1 to 5,000 characters, log-uniform (as many texts of 1-10 characters as of 500-5,000):
  // every padded shape up to the model's 512 tokens occurs, with mostly tweet-sized texts. Texts are mostly
  // distinct, so the default 10,000-entry cache fills, then must stop growing.
  const long = texts.join(' ');
  const body = (n: number) => {
    const length = Math.max(1, Math.round(Math.exp(((n * 7919) % 10_000) / 10_000 * Math.log(5000))));
    const start = (n * 104729) % (long.length - length);
    return { text: `${n} ${long.slice(start, start + length)}`.slice(0, 5000) };
  };
  let rssAt20k = 0;
  let done = 0;
  const summary = await runLoad({
    url: server.url, connections: 64, requests: 200_000, body,
    keep: (result) => result.status !== 200,
    onResponse: () => {
      if (++done === 20_000) rssAt20k = rssBytes(server.child.pid!);
    },
  });
  const rssAtEnd = rssBytes(server.child.pid!);
  t.comment(`RSS after 20,000: ${(rssAt20k / 2 ** 20).toFixed(1)} MiB; after 200,000: ${(rssAtEnd / 2 ** 20).toFixed(1)} MiB`);
  t.equal(summary.sent, 200_000);
  t.same(summary.statusCounts, { 200: 200_000 }, 'every request answered with a prediction');
  t.ok(rssAtEnd <= rssAt20k * 1.15, `RSS grew ${(((rssAtEnd / rssAt20k) - 1) * 100).toFixed(1)} % (limit 15 %)`);
});
