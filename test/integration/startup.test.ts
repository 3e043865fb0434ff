// The process as an operator meets it: `node dist/server/main.js` with settings from the environment and
// the seed's flags. A bad setting, a missing model or an unavailable provider exits 1 with one clear line.
// What only a process shows (the exit code, stderr holding one line and no stack, argv, signals) is checked on
// real processes; every other bad setting or model is checked in this process, on the same code
// (loadConfig, startService) whose message main.ts prints after "configuration error: " or "start-up failed: ".
import { once } from 'node:events';
import { connect } from 'node:net';
import t from 'tap';
import { ConfigError, loadConfig } from '../../core/config.js';
import { waitUntil } from '../../deploy/local-stack.js';
import { freePort, spawnServer, startServerProcess } from '../helpers/process.js';
import { getJson, postJson, startTestService } from '../helpers/service.js';

const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;

/**
 * Our message is the last line of stderr, alone on it. Native libraries may print before it (ONNX Runtime's
 * logger names the missing CUDA library; Dawn warns that it found no Vulkan loader), and that is kept: it
 * helps the operator; but no JavaScript stack trace is printed.
 */
async function failsWith(t: any, env: Record<string, string>, args: string[], pattern: RegExp) {
  const run = spawnServer({ MODEL_PATH: `${FIXTURES}bert-tiny`, PORT: '0', ...env }, args);
  const code = await run.exited;
  t.equal(code, 1, 'exit code 1');
  const lines = run.stderr().trim().split('\n');
  t.equal(lines.length, 1, `one line on stderr: ${run.stderr()}`);
  t.match(lines.at(-1), pattern);
  t.notMatch(run.stderr() + run.stdout(), /\n\s+at .*\.(js|ts):\d+/, 'no JavaScript stack trace');
}

t.test('a bad setting: the process exits 1 with one line naming it', (t) => failsWith(t, { PORT: 'abc' }, [], /^configuration error: PORT must be an integer from 0 to 65535, got 'abc'$/));
t.test('an unknown flag: the process exits 1 naming it', (t) => failsWith(t, {}, ['--modelpath', 'x'], /^configuration error: unknown argument '--modelpath'/));
t.test('a missing model: the process exits 1 saying where it looked', (t) => failsWith(t, { MODEL_PATH: '/nonexistent/model' }, [], /^start-up failed: model not found at \/nonexistent\/model: set MODEL_PATH/));

/** loadConfig refuses `env` with exactly this message (main.ts prints it after "configuration error: "). */
function refused(t: any, env: Record<string, string>, message: string | RegExp) {
  t.throws(() => loadConfig({ MODEL_PATH: `${FIXTURES}bert-tiny`, ...env }, []), typeof message === 'string' ? new ConfigError(message) : { name: 'ConfigError', message });
}

t.test('bad settings are refused with a message naming the setting and the value', async (t) => {
  refused(t, { MAX_BATCH_SIZE: '0' }, "MAX_BATCH_SIZE must be an integer from 1 to 4096, got '0'");
  refused(t, { MAX_BATCH_WAIT_MS: '2.5' }, /^MAX_BATCH_WAIT_MS must be an integer/);
  refused(t, { DEVICE: 'tpu' }, "DEVICE must be one of cpu, webgpu, cuda, got 'tpu'");
  refused(t, { LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/);
  refused(t, { MAX_QUEUE: '32' }, 'MAX_QUEUE (32) must be at least MAX_CLIENT_BATCH (64): a full batch call would never fit in the queue');
});

t.test('MAX_QUEUE equal to MAX_CLIENT_BATCH starts, and MODEL_PATH may name the model.onnx file', async (t) => {
  const server = await startTestService({ MAX_QUEUE: '8', MAX_CLIENT_BATCH: '8', MODEL_PATH: `${FIXTURES}bert-tiny/model.onnx` });
  t.teardown(() => server.close());
  const full = await postJson(`${server.url}/api/predict/batch`, { texts: Array.from({ length: 8 }, (_, i) => `text ${i}`) });
  t.equal(full.status, 200, 'a full batch call fits in the queue');
  t.equal((await getJson(`${server.url}/api/model`)).body.name, 'bert-tiny-fixture', 'the model of the directory holding the file');
});

/** startService refuses the model with this message (main.ts prints it after "start-up failed: "). */
async function startRefused(t: any, env: Record<string, string>, message: RegExp) {
  await t.rejects(startTestService(env), { message }, `${JSON.stringify(env)}: ${message}`);
}

t.test('a model the service cannot serve is refused at start-up with the fix', async (t) => {
  await startRefused(t, { MODEL_PATH: FIXTURES }, /^model.onnx not found in /);
  await startRefused(t, { MAX_TOKENS: '4096' }, /^MAX_TOKENS=4096 is above this model's limit of 512 tokens$/);
  await startRefused(t, { DEVICE: 'cuda' }, /^CUDA execution provider is not installed: reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 .*or set DEVICE=cpu$/);
  await startRefused(t, { DEVICE: 'webgpu' }, /^WebGPU execution provider found no GPU adapter: install the Vulkan loader .*or set DEVICE=cpu$/);
});

t.test('the seed flags --model_path --host --port start the server', async (t) => {
  const server = await startServerProcess({ MODEL_PATH: '/nonexistent' }, ['--model_path', `${FIXTURES}roberta-tiny`, '--host=127.0.0.1']);
  t.teardown(() => { server.child.kill('SIGKILL'); });
  const model = await getJson(`${server.url}/api/model`);
  t.equal(model.body.name, 'roberta-tiny-fixture', 'the flag wins over MODEL_PATH');
  t.same(model.body.labels, ['LABEL_0', 'LABEL_1', 'LABEL_2'], 'labels come from the export\'s id2label');
  t.equal(model.body.maxTokens, 512, 'RoBERTa: 514 positions minus the 2 offset rows');
});

t.test('SIGTERM: stops accepting, answers every accepted request, exits 0', async (t) => {
  // One worker running one text at a time on the slow fixture: most of the 60 requests are still queued
  // when the signal comes.
  const server = await startServerProcess({ MODEL_PATH: `${FIXTURES}slow-tiny`, WORKERS: '1', MAX_BATCH_SIZE: '1' });
  const texts = Array.from({ length: 60 }, (_, i) => `request number ${i} ${'word '.repeat(i % 20)}`);
  const responses = texts.map((text) => fetch(`${server.url}/api/predict`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }),
  }).then(async (res) => ({ status: res.status, body: await res.json(), at: performance.now() })));
  // Wait until the server has received all 60 (answered or in flight), then ask it to stop.
  let inFlight = 0;
  await waitUntil(async () => {
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    inFlight = Number(/^sentiment_http_requests_in_flight (\S+)/m.exec(metrics)![1]);
    const answered = Number(/^http_request_duration_seconds_count\{[^}]*route="\/api\/predict"[^}]*\} (\S+)/m.exec(metrics)?.[1] ?? 0);
    return inFlight + answered >= 60;
  }, { intervalMs: 2, timeoutMs: 20_000, what: 'all 60 requests received' });
  const signalledAt = performance.now();
  server.child.kill('SIGTERM');
  const settled = await Promise.allSettled(responses);
  const answered = settled.filter((s) => s.status === 'fulfilled').map((s) => (s as PromiseFulfilledResult<{ status: number; body: any; at: number }>).value);
  t.equal(answered.length, 60, 'every request got an answer');
  t.equal(answered.filter((r) => r.status === 200 && typeof r.body.label === 'string').length, 60, 'every one a prediction');
  t.ok(inFlight >= 10, `${inFlight} were still in flight when SIGTERM came`);
  t.ok(answered.filter((r) => r.at > signalledAt).length >= 10, 'and were answered after it');
  t.equal(await server.exited, 0, 'exit code 0');
  t.ok(performance.now() - signalledAt < 10_000, 'and it exits promptly (keep-alive connections do not hold it)');
  await t.rejects(fetch(`${server.url}/api/health`), 'no longer accepting connections');
});

t.test('SIGTERM with connections open that carry no request: it exits at once, not when they time out', async (t) => {
  // Browsers and proxies open connections before they need them: one that has sent nothing is not idle to
  // Node, and held the close for minutes.
  const metricsPort = await freePort();
  const server = await startServerProcess({ METRICS_PORT: String(metricsPort) });
  const open = (port: number) => connect({ host: '127.0.0.1', port });
  const silent = [open(server.port), open(server.port), open(metricsPort)];
  await Promise.all(silent.map((socket) => once(socket, 'connect')));
  // And one kept alive after an answer: idle, which Node closes itself.
  const keptAlive = open(server.port);
  keptAlive.write('GET /api/health HTTP/1.1\r\nhost: localhost\r\n\r\n');
  await once(keptAlive, 'data');
  const signalledAt = performance.now();
  server.child.kill('SIGTERM');
  t.equal(await server.exited, 0, 'exit code 0');
  const seconds = (performance.now() - signalledAt) / 1000;
  t.ok(seconds < 5, `exited ${seconds.toFixed(1)} s after SIGTERM, with 2 silent connections to the API, 1 to the metrics port and 1 kept alive`);
  for (const socket of [...silent, keptAlive]) socket.destroy();
});
