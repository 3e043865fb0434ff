// What the warm-up chooses reaches the running service: MAX_BATCH_TOKENS and MAX_QUEUE from the cost per token
// it measured on the tiny fixture (TEI /info and /api/ready say them), and WARMUP_BUDGET_MS reaches the workers.
// The warm-up's own rules, on a fake clock: test/unit/warmup.test.ts.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { CPU_MAX_BATCH_TOKENS, CPU_MAX_QUEUE } from '../../core/batch-budget.js';
import { getJson, startTestService } from '../helpers/service.js';

// Two services for the file: one choosing for itself, one told (and warmed with a zero budget, its log kept).
const auto = await startTestService({ WORKERS: '1' });
let logged = '';
const logger = pino({ level: 'info' }, new Writable({ write(chunk, _encoding, done) { logged += chunk; done(); } }));
const fixed = await startTestService({ WORKERS: '1', MAX_BATCH_TOKENS: '1000', MAX_QUEUE: '100', WARMUP_BUDGET_MS: '0', LOG_LEVEL: 'info' }, logger);
t.teardown(() => Promise.all([auto.close(), fixed.close()]));

t.test('MAX_BATCH_TOKENS: unset, chosen from the measured cost (TEI /info says it); set, it is fixed', async (t) => {
  // The tiny fixture is cheap: the cap on a quiet machine; on a busy one, still a full batch of long tweets.
  const chosen = (await getJson(`${auto.url}/info`)).body.max_batch_tokens as number;
  t.ok(chosen >= 64 * 128 && chosen <= CPU_MAX_BATCH_TOKENS, `${chosen} tokens: MAX_BATCH_SIZE texts of 128 tokens fit`);
  t.equal((await getJson(`${fixed.url}/info`)).body.max_batch_tokens, 1000, 'a set value wins');
});

t.test('MAX_QUEUE: unset on a CPU, chosen after warm-up; set, it is fixed', async (t) => {
  t.equal((await getJson(`${auto.url}/api/ready`)).body.maxQueue, CPU_MAX_QUEUE, 'the tiny fixture is cheap: 2048');
  t.equal((await getJson(`${fixed.url}/info`)).body.max_concurrent_requests, 100, 'a set value wins, and TEI /info says it');
});

t.test('WARMUP_BUDGET_MS reaches the workers: with 0 each runs its first shape only', async (t) => {
  const loaded = logged.split('\n').filter((line) => line.includes('model loaded and warmed up')).map((line) => JSON.parse(line) as { warmupShapes: number });
  t.same(loaded.map((entry) => entry.warmupShapes), [1], 'one shape, the lone request\'s: nothing else fits a zero budget');
});
