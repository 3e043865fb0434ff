// The command line, run as a user runs it (node dist/cli/main.js, i.e. `npx tweet-sentiment`), against the
// bert-tiny fixture in-process and a real service over HTTP: both modes write the same file; a run killed
// with SIGKILL and continued with --resume writes the same file as an uninterrupted one (JSONL and CSV, a
// partial last record cut). "The same": every field equal, scores within 1e-5 (test/helpers/scored-files.ts
// says why not always byte for byte), and each assertion says whether the bytes were identical; CSV with quotes, commas and newlines in fields round-trips; Ctrl-C keeps whole
// records; stdin plain text; a 429 is retried after its Retry-After.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import t from 'tap';
import { ROOT, killOnExit } from '../../deploy/local-stack.js';
import { TRAIN_GZ, VALIDATION, jsonLines } from '../helpers/data.js';
import { compareCsv, compareJsonl, describe } from '../helpers/scored-files.js';
import { FIXTURES, startTestService } from '../helpers/service.js';

const CLI = join(ROOT, 'dist/cli/main.js');
const ENV = { PATH: process.env.PATH ?? '', MODEL_PATH: `${FIXTURES}bert-tiny`, WORKERS: '2', INTRA_OP_THREADS: '1', CACHE_SIZE: '0', LOG_LEVEL: 'warn' };
const dir = mkdtempSync(join(tmpdir(), 'score-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const server = await startTestService();
t.teardown(() => server.close());

interface Run { code: number | string; stdout: string; stderr: string }

function cli(args: string[], options: { stdin?: string; env?: Record<string, string>; onStart?: (kill: (signal: NodeJS.Signals) => void) => void } = {}): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...ENV, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  killOnExit(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => { stdout += chunk; });
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  child.stdin.end(options.stdin ?? '');
  options.onStart?.((signal) => child.kill(signal));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code: code ?? signal ?? -1, stdout, stderr })));
}

async function waitForSize(path: string, bytes: number): Promise<void> {
  for (;;) {
    try { if (statSync(path).size >= bytes) return; } catch { /* not yet created */ }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const trainSlice = join(dir, 'train-10k.jsonl');
writeFileSync(trainSlice, `${jsonLines(TRAIN_GZ).slice(0, 10_000).join('\n')}\n`);

t.test('in-process and remote (--url) write the same file', async (t) => {
  const local = join(dir, 'local.jsonl');
  const remote = join(dir, 'remote.jsonl');
  const a = await cli(['score', VALIDATION, '--out', local]);
  const b = await cli(['score', VALIDATION, '--out', remote, '--url', server.url]);
  t.equal(a.code, 0, a.stderr);
  t.equal(b.code, 0, b.stderr);
  t.match(a.stderr, /2,000 texts in [\d.]+ s \([\d,]+ texts\/s\)/, 'summary: texts, elapsed, texts/s');
  t.match(a.stderr, /negative\s+[\d,]+\s+[\d.]+%/, 'summary: per-label counts and shares');
  t.match(a.stderr, /errors\s+0/);
  const lines = readFileSync(local, 'utf8').split('\n');
  t.equal(lines.length, 2001, 'one line per input line');
  const first = JSON.parse(lines[0]!);
  t.same(Object.keys(first), ['text', 'label', 'score', 'scores', 'truncated'], 'the input object + the prediction (the input\'s own label replaced)');
  const same = compareJsonl(local, remote);
  t.ok(same.same, `the same records, fields and labels, scores within 1e-5: ${describe(same)}`);
});

t.test('--resume after SIGKILL mid-run writes the same file as an uninterrupted run (JSONL)', async (t) => {
  const whole = join(dir, 'whole.jsonl');
  const killed = join(dir, 'killed.jsonl');
  t.equal((await cli(['score', trainSlice, '--out', whole, '--quiet'])).code, 0);
  const size = statSync(whole).size;
  const first = await cli(['score', trainSlice, '--out', killed, '--quiet'], {
    onStart: (kill) => { void waitForSize(killed, size / 3).then(() => kill('SIGKILL')); },
  });
  t.equal(first.code, 'SIGKILL');
  const keptLines = readFileSync(killed, 'utf8').split('\n').length - 1;
  t.ok(keptLines > 0 && keptLines < 10_000, `killed after ${keptLines} lines`);
  appendFileSync(killed, '{"text":"a record cut in the mid'); // as if killed inside a write
  const resumed = await cli(['score', trainSlice, '--out', killed, '--resume']);
  t.equal(resumed.code, 0, resumed.stderr);
  t.match(resumed.stderr, new RegExp(`after ${keptLines.toLocaleString('en-US')} already in the output`));
  const same = compareJsonl(killed, whole);
  t.ok(same.same, `the uninterrupted run's file: ${describe(same)}`);
});

t.test('CSV: quotes, commas and newlines inside fields round-trip; --resume cuts a partial CSV record', async (t) => {
  const rows = [
    { id: '1', text: 'plain tweet about a phone', note: 'a' },
    { id: '2', text: 'she said "this is great", then left', note: 'quote "inside"' },
    { id: '3', text: 'commas, commas, everywhere, ok', note: 'x,y' },
    { id: '4', text: 'a tweet\nover two lines\r\nand three', note: 'multi\nline' },
    { id: '5', text: '', note: 'empty text' },
    { id: '6', text: 'émojis 😀 and ünïcödé', note: '' },
  ];
  const input = join(dir, 'tricky.csv');
  writeFileSync(input, stringify([...rows, ...rows.map((r) => ({ ...r, id: `${r.id}b` }))], { header: true, columns: ['id', 'text', 'note'] }));
  const local = join(dir, 'tricky-local.csv');
  const remote = join(dir, 'tricky-remote.csv');
  const a = await cli(['score', input, '--out', local, '--column', 'text']);
  const b = await cli(['score', input, '--out', remote, '--column', 'text', '--url', server.url]);
  t.equal(a.code, 0, a.stderr);
  t.equal(b.code, 0, b.stderr);
  const same = compareCsv(local, remote, ['negative', 'neutral', 'positive']);
  t.ok(same.same, `in-process and remote CSV: ${describe(same)}`);
  const out = parse<Record<string, string>>(readFileSync(local), { columns: true });
  t.same(Object.keys(out[0]!), ['id', 'text', 'note', 'label', 'score', 'negative', 'neutral', 'positive', 'truncated', 'error_code', 'error_message']);
  t.equal(out.length, 12);
  out.slice(0, 6).forEach((row, i) => {
    t.same({ id: row.id, text: row.text, note: row.note }, rows[i], `row ${i + 1}: the input fields, unchanged`);
    if (rows[i]!.text === '') t.equal(row.error_code, 'FST_ERR_VALIDATION', 'the empty text: /api/predict\'s code');
    else t.ok(['negative', 'neutral', 'positive'].includes(row.label!) && row.error_code === '', `row ${i + 1} scored`);
  });
  // Cut inside the multi-line quoted field of a later record, then resume.
  const whole = readFileSync(local);
  const cut = whole.indexOf('over two lines', whole.indexOf('4b,')) + 4;
  truncateSync(local, cut);
  const resumed = await cli(['score', input, '--out', local, '--column', 'text', '--resume']);
  t.equal(resumed.code, 0, resumed.stderr);
  const resumedSame = compareCsv(local, remote, ['negative', 'neutral', 'positive']);
  t.ok(resumedSame.same && readFileSync(local).subarray(0, cut).equals(whole.subarray(0, cut)), `the resumed CSV: the kept part untouched, then the complete one: ${describe(resumedSame)}`);
});

t.test('Ctrl-C stops cleanly: exit 130, whole lines only, a summary', async (t) => {
  const out = join(dir, 'interrupted.jsonl');
  const run = await cli(['score', trainSlice, '--out', out], {
    onStart: (kill) => { void waitForSize(out, 50_000).then(() => kill('SIGINT')); },
  });
  t.equal(run.code, 130, run.stderr);
  t.match(run.stderr, /^interrupted: [\d,]+ texts/m);
  const text = readFileSync(out, 'utf8');
  t.ok(text.endsWith('\n'), 'ends with a whole line');
  const lines = text.split('\n').slice(0, -1);
  t.ok(lines.length > 0 && lines.length < 10_000, `${lines.length} lines kept`);
  t.ok(lines.every((line) => { try { return typeof JSON.parse(line).label === 'string'; } catch { return false; } }), 'every kept line is a whole prediction (no dropped texts written)');
});

t.test('plain text from stdin to stdout', async (t) => {
  const run = await cli(['score', '-', '--quiet'], { stdin: 'I love this\n\nworst day ever\n' });
  t.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
  t.equal(lines.length, 3);
  t.equal(lines[0].text, 'I love this');
  t.type(lines[0].label, 'string');
  t.same({ text: lines[1].text, code: lines[1].error.code }, { text: '', code: 'FST_ERR_VALIDATION' });
  t.equal(run.stderr, '', '--quiet: nothing on stderr');
});

t.test('remote: a 429 is retried after its Retry-After; API key from TWEET_SENTIMENT_API_KEY', async (t) => {
  const limited = await startTestService({ API_KEYS: 'k1', RATE_LIMIT_MAX: '1', RATE_LIMIT_WINDOW: '2000' });
  t.teardown(() => limited.close());
  const out = join(dir, 'retried.jsonl');
  // The rate limit counts per route and client: one stream of this key takes the window's one request, so
  // the CLI's stream is refused once (429, Retry-After), then retried.
  const taken = await fetch(`${limited.url}/api/predict/stream`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', authorization: 'Bearer k1' }, body: '{"text":"x"}\n' });
  t.equal(taken.status, 200);
  await taken.text();
  const run = await cli(['score', VALIDATION, '--out', out, '--url', limited.url], { env: { TWEET_SENTIMENT_API_KEY: 'k1' } });
  t.equal(run.code, 0, run.stderr);
  t.match(run.stderr, /answered 429; retrying in \d+ s/);
  t.equal(readFileSync(out, 'utf8').split('\n').length - 1, 2000);
  const refused = await cli(['score', VALIDATION, '--url', limited.url, '--quiet'], { env: { TWEET_SENTIMENT_API_KEY: 'wrong' } });
  t.equal(refused.code, 1);
  t.match(refused.stderr, /401/);
});

t.test('usage errors exit 2', async (t) => {
  t.equal((await cli(['score', VALIDATION, '--resume'])).code, 2, '--resume without --out');
  t.equal((await cli(['score', VALIDATION, '--format', 'xml'])).code, 2);
  t.equal((await cli(['nope'])).code, 2);
  const missing = await cli(['score', join(dir, 'tricky.csv'), '--column', 'tweet']);
  t.equal(missing.code, 2, 'a CSV without the --column');
  t.match(missing.stderr, /no column 'tweet'/);
});
