// The command line's remote mode across a replica shutdown: the replica it streams to is closed mid-run
// (SIGTERM's drain), its stream ends with a SHUTTING_DOWN line, and the CLI sends the unanswered records
// again on a new request, which a TCP switch (standing in for a load balancer) gives to another replica.
// The output equals an in-process run's. The same when the connection is reset with no line saying why.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ROOT, killOnExit } from '../../deploy/local-stack.js';
import { TRAIN_GZ, jsonLines } from '../helpers/data.js';
import { compareJsonl, describe } from '../helpers/scored-files.js';
import { FIXTURES, startTestService } from '../helpers/service.js';

const dir = mkdtempSync(join(tmpdir(), 'score-failover-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
// Enough records that the stream is still running when the replica goes (it goes at the first answers).
const input = join(dir, 'train-10k.jsonl');
writeFileSync(input, `${jsonLines(TRAIN_GZ).slice(0, 10_000).join('\n')}\n`);
const ENV = { PATH: process.env.PATH ?? '', MODEL_PATH: `${FIXTURES}bert-tiny`, WORKERS: '2', INTRA_OP_THREADS: '1', CACHE_SIZE: '0', LOG_LEVEL: 'warn' };

function cli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'score', ...args], { cwd: ROOT, env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  killOnExit(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  return once(child, 'exit').then(([code]) => ({ code: code as number | null, stderr }));
}

/** A TCP switch standing in for a load balancer: new connections go to `target`, open ones stay where they are. */
async function tcpSwitch(t: Test, first: string): Promise<{ url: string; target(url: string): void; cut(): void }> {
  let target = new URL(first);
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => { for (const socket of sockets) socket.destroy(); proxy.close(); });
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    target(url) { target = new URL(url); },
    // Every open connection reset, as when a replica's host goes away.
    cut() { for (const socket of sockets) socket.resetAndDestroy(); },
  };
}

const whole = join(dir, 'whole.jsonl');
t.before(async () => { t.equal((await cli([input, '--out', whole, '--quiet'])).code, 0, 'the in-process reference run'); });

/** Waits until the CLI has written its first answers to `out`. */
async function firstAnswers(out: string): Promise<void> {
  while ((statSync(out, { throwIfNoEntry: false })?.size ?? 0) === 0) await new Promise((r) => setTimeout(r, 20));
}

t.test('a replica shutting down mid-stream: the CLI continues on another one, and the file is whole', async (t) => {
  const first = await startTestService();
  const second = await startTestService();
  t.teardown(() => second.close());
  const lb = await tcpSwitch(t, first.url);
  const out = join(dir, 'failover.jsonl');
  const running = cli([input, '--url', lb.url, '--out', out]);
  // The replica is shut down as soon as the first answers are written, with most of the stream still to come.
  await firstAnswers(out);
  lb.target(second.url);
  await first.close();
  const { code, stderr } = await running;
  t.equal(code, 0, stderr);
  // The SHUTTING_DOWN line, or (when the replica closed its socket while the CLI still wrote) the lost connection.
  t.match(stderr, /(answered 503 \(SHUTTING_DOWN\)|connection to the service was lost \(.+\)); retrying in 1 s/, 'the replica going away made it retry');
  const same = compareJsonl(out, whole);
  t.ok(same.same, `the file equals an in-process run's: ${describe(same)}`);
});

t.test('the connection reset mid-stream (no SHUTTING_DOWN line): the CLI sends what was unanswered again, and the file is whole', async (t) => {
  const first = await startTestService();
  const second = await startTestService();
  t.teardown(async () => { await first.close(); await second.close(); });
  const lb = await tcpSwitch(t, first.url);
  const out = join(dir, 'reset.jsonl');
  const running = cli([input, '--url', lb.url, '--out', out]);
  await firstAnswers(out);
  lb.target(second.url);
  lb.cut();
  const { code, stderr } = await running;
  t.equal(code, 0, stderr);
  t.match(stderr, /connection to the service was lost \(.+\); retrying in 1 s/, 'the lost connection made it retry');
  const same = compareJsonl(out, whole);
  t.ok(same.same, `the file equals an in-process run's: ${describe(same)}`);
});
