// The images built and the stack run by a real Docker engine (Debian's docker.io; dockerd started here when
// none runs, and stopped again), as a user would, with nothing but the repository:
//   1. the base images the Dockerfile and docker-compose.yml name, built by deploy/base-images.sh when missing
//      (no Docker Hub here), and the CPU image built from the Dockerfile by docker-compose v1 (the classic
//      builder, which runs every stage up to its target: it must meet no GPU stage);
//   2. `docker run` of that image: ready, the README example, non-root, HEALTHCHECK healthy, SIGTERM drains;
//   3. `docker-compose up` of NGINX + 2 api replicas + Redis + Prometheus (the compose file as it is; .env
//      built as the README says, with this run's ports and image): through NGINX on the host, /api/ready and a
//      prediction; Prometheus scrapes both replicas;
//   4. deploy/rolling-restart.sh under a 200-connection autocannon load through NGINX: no failed request;
//   5. `--scale api=3` with a Redis-shared rate limit: NGINX and Prometheus follow, the limit holds across
//      replicas; `docker-compose down` leaves nothing;
//   6. the GPU image: built when its CUDA base is in the engine, else the test says why not.
// Grafana runs when its image is in the engine; Debian has no package for it (deploy/base-images.sh).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ROOT, freePort, run, waitUntil } from '../../deploy/local-stack.js';
import { README, answer, parseExamples } from '../../scripts/readme-examples.js';
import {
  DOCKER, DOCKER_ENV, addressOf, composeProject, docker, healthOf, httpStatus, imageBytes, imagePresent, prometheusTargets, readmeEnv, startEngine,
  type Engine, type Ran,
} from '../helpers/docker.js';

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'docker-test-'));
const tag = `${process.pid}`;
// The image of this test: kept after it (its layers are the next run's build cache), unlike its containers.
const API_IMAGE = 'tweet-sentiment-api:docker-test';
const NODE_IMAGE = /^ARG NODE_IMAGE=(\S+)$/m.exec(read('Dockerfile'))![1]!;
const composeDefault = (variable: string) => new RegExp(`\\$\\{${variable}:-([^}]+)\\}`).exec(read('docker-compose.yml'))![1]!;
const example = parseExamples(readFileSync(README, 'utf8'))[0]!;
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

let engine: Engine | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
t.teardown(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error: Error) => t.comment(`cleanup: ${error.message}`));
  await engine?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The README example's answer from `url`, checked against what the README prints (scores to 1e-6). */
async function predictsReadmeExample(t: Test, url: string, where: string) {
  const reply = await answer(url, example);
  t.equal(reply.status, 200, `${where}: POST ${example.path} ${example.body}`);
  const expected = JSON.parse(example.output) as { label: string; scores: Record<string, number> };
  const actual = JSON.parse(reply.body) as typeof expected;
  t.equal(actual.label, expected.label, `${where}: the README's label, ${expected.label}`);
  t.ok(Object.entries(expected.scores).every(([label, score]) => Math.abs(actual.scores[label]! - score) <= 1e-6), `${where}: the README's scores`, { expected: expected.scores, actual: actual.scores });
}

// ---- 1 -----------------------------------------------------------------------------------------------
t.test('1. engine, base images, and the CPU image from the Dockerfile', async (t) => {
  let started = performance.now();
  engine = await startEngine();
  t.comment(`Docker engine ${engine.version}${engine.startedHere ? `, started by this test in ${seconds(started)}` : ', already running'}`);

  // The Node image, then the application on it; the other base images meanwhile.
  started = performance.now();
  const baseImages = (names: string[]) => run(join(ROOT, 'deploy/base-images.sh'), names, { env: DOCKER_ENV, timeoutMs: 600_000 })
    .then((result) => ({ ...result, time: seconds(started) }));
  writeFileSync(join(work, 'build.env'), `API_IMAGE=${API_IMAGE}\nGRAFANA_ADMIN_PASSWORD=unused\n`);
  const builder = composeProject(`sentiment-build-${tag}`, join(work, 'build.env'));
  let buildStarted = 0;
  const [[node, build], others] = await Promise.all([
    baseImages(['node']).then(async (node) => {
      buildStarted = performance.now();
      const build = node.code === 0 ? await builder.run(['build', 'api'], 900_000) : { code: null, stdout: '', stderr: 'no Node image' };
      return [node, { ...build, time: seconds(buildStarted) }] as const;
    }),
    baseImages(['nginx', 'prometheus', 'redis']),
  ]);
  t.equal(node.code, 0, `deploy/base-images.sh node (${node.time})`, { output: `${node.stdout}${node.stderr}` });
  t.equal(others.code, 0, `deploy/base-images.sh nginx prometheus redis (${others.time}, beside the rest)`, { output: `${others.stdout}${others.stderr}` });
  t.comment(`${node.stdout}${others.stdout}`.trim());
  t.equal(build.code, 0, `docker-compose build api: the classic builder (${build.time})`, { output: `${build.stdout}${build.stderr}`.slice(-8000) });
  const stages = [...build.stdout.matchAll(/^Step \d+\/\d+ : FROM (\S+)/gm)].map((m) => m[1]);
  t.same(stages, ['${NODE_IMAGE}', 'build', '${NODE_IMAGE}'], 'the build ran the build, prod-deps and runtime stages only');
  t.notMatch(build.stdout, /cuda/i, 'nothing of CUDA on the CPU path');

  const [appBytes, baseBytes] = await Promise.all([imageBytes(API_IMAGE), imageBytes(NODE_IMAGE)]);
  const own = appBytes - baseBytes;
  t.ok(own < 150e6, `the image's own layers: ${(own / 1e6).toFixed(0)} MB (< 150 MB); ${(appBytes / 1e6).toFixed(0)} MB with the base's ${(baseBytes / 1e6).toFixed(0)} MB`);
  const nodeVersion = await docker(['run', '--rm', '--entrypoint', 'node', API_IMAGE, '--version']);
  t.ok(Number(/^v(\d+)\./.exec(nodeVersion)?.[1]) >= 22, `Node ${nodeVersion} in the image (22 LTS or newer)`);
});

// ---- the stack of 3 to 5 ------------------------------------------------------------------------------
const services = ['nginx', 'api', 'redis', 'prometheus'];
const ports = { http: 0, prometheus: 0 };
const stackEnv = join(work, 'stack.env');
const stack = composeProject(`sentiment-stack-${tag}`, stackEnv);
let grafana = false;

/** `docker-compose up` of NGINX, 2 api replicas, Redis and Prometheus (and Grafana when its image is here). */
async function startStack(): Promise<Ran & { time: string }> {
  [ports.http, ports.prometheus] = await Promise.all([freePort('0.0.0.0'), freePort()]);
  const [https, grafanaPort] = await Promise.all([freePort('0.0.0.0'), freePort()]);
  grafana = await imagePresent(composeDefault('GRAFANA_IMAGE'));
  if (grafana) services.push('grafana');
  writeFileSync(stackEnv, readmeEnv({
    API_IMAGE, GRAFANA_ADMIN_PASSWORD: 'test-only-password',
    HTTP_PORT: ports.http, HTTPS_PORT: https, PROMETHEUS_PORT: ports.prometheus, GRAFANA_PORT: grafanaPort,
    // Two replicas share this machine's cores.
    WORKERS: 1,
    // Replicas healthy (and rolling-restart.sh on to the next) within 2 s of being ready, not 10.
    API_HEALTH_INTERVAL: '2s',
  }));
  cleanups.push(() => stack.run(['down', '-v', '--remove-orphans']));
  const started = performance.now();
  const up = await stack.run(['up', '-d', '--no-build', '--scale', 'api=2', ...services]);
  return { ...up, time: seconds(started) };
}
let stackUp: Promise<Ran & { time: string }> | undefined;
let stackScraped: Promise<string> | undefined;

/**
 * Resolves once Prometheus has found every api replica (`up`: and scraped it), with the time since `since`. It
 * re-resolves `api` every 5 s and scrapes every 15 s: seconds that the tests spend on other checks meanwhile.
 */
async function prometheusFindsAll(since: number, { up }: { up: boolean }): Promise<string> {
  const replicas = await stack.addresses('api');
  await waitUntil(async () => (await prometheusTargets(ports.prometheus, { up })).join() === replicas.join(), { timeoutMs: 60_000, intervalMs: 500, what: `Prometheus to find all ${replicas.length} replicas${up ? ' and scrape them' : ''}` });
  return seconds(since);
}

// ---- 2 -----------------------------------------------------------------------------------------------
/** POST `body` to `url` on a connection of its own; resolves once the whole request is written (`sent`). */
function postOwnConnection(url: string, body: unknown): { sent: Promise<void>; response: Promise<{ status: number; body: string }> } {
  let markSent!: () => void;
  const sent = new Promise<void>((resolve) => { markSent = resolve; });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.on('finish', markSent);
    req.end(JSON.stringify(body));
  });
  return { sent, response };
}

t.test('2. docker run: ready, the README example, non-root, healthy, SIGTERM drains', async (t) => {
  // The stack of 3 comes up meanwhile: its start waits for health checks more than it works.
  const stackStarted = performance.now();
  stackUp = startStack();
  stackScraped = stackUp.then((up) => {
    if (up.code !== 0) throw new Error('docker-compose up failed');
    return prometheusFindsAll(stackStarted, { up: true });
  });
  // Both awaited, and their failures reported, by 3.
  stackUp.catch(() => undefined);
  stackScraped.catch(() => undefined);
  const name = `sentiment-run-${tag}`;
  const started = performance.now();
  // The image's HEALTHCHECK command, checked every 2 s rather than its 10 s: healthy sooner, nothing else changed.
  await docker(['run', '-d', '--name', name, '-p', '127.0.0.1::5000', '--health-interval', '2s', API_IMAGE]);
  cleanups.push(() => docker(['rm', '-f', name]));
  const url = `http://${(await docker(['port', name, '5000/tcp'])).split('\n')[0]}`;
  await waitUntil(async () => await httpStatus(`${url}/api/ready`) === 200, { timeoutMs: 60_000, intervalMs: 100, what: `${name} ready` });
  t.pass(`ready ${seconds(started)} after docker run`);
  await predictsReadmeExample(t, url, 'docker run');
  t.equal(await docker(['exec', name, 'id', '-u']), '1000', 'runs as uid 1000');
  t.equal(await docker(['inspect', '--format', '{{.Config.User}}', name]), '1000:1000', 'the image says so (USER 1000:1000)');
  await waitUntil(async () => (await healthOf(name)) !== 'starting', { timeoutMs: 40_000, intervalMs: 250, what: 'the first health check' });
  t.equal(await healthOf(name), 'healthy', `HEALTHCHECK healthy ${seconds(started)} after docker run`);

  // SIGTERM while calls are in flight: every one of them is answered, then the process exits 0. Long texts
  // (about 100 words each), so that the calls take seconds and SIGTERM meets them in the queue.
  const text = (call: number, i: number) => `drain ${call}-${i}: ${'what a game tonight, the crowd was loud and the team played well until the last minute '.repeat(6)}`;
  // To the container's own address: through the published port, docker-proxy relays each connection on a
  // connection of its own, so a call written here could still be on its way when SIGTERM comes.
  const direct = `http://${await addressOf(name)}:5000`;
  const calls = Array.from({ length: 16 }, (_, call) => {
    const posted = postOwnConnection(`${direct}/api/predict/batch`, { texts: Array.from({ length: 64 }, (_, i) => text(call, i)) });
    return { sent: posted.sent, response: posted.response.then((answer) => ({ ...answer, at: Date.now() })) };
  });
  await Promise.all(calls.map((call) => call.sent));
  // Asked after every call was written, on a newer connection: its answer means they were all received.
  const { queueDepth } = await new Promise<{ queueDepth: number }>((resolve, reject) => {
    request(`${direct}/api/ready`, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; }).on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject).end();
  });
  const stopStarted = performance.now();
  await docker(['stop', '--time', '30', name]);
  const stopTime = seconds(stopStarted);
  const answers = await Promise.all(calls.map((call) => call.response));
  const logLines = (await docker(['logs', name])).split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg: string; time: number });
  const drainingAt = logLines.find((line) => line.msg.startsWith('draining'))?.time ?? Infinity;
  // A call is accepted unless the service refused it at once (503 QUEUE_FULL: the texts already waiting
  // would keep it past its deadline at the rate measured on this machine); none may be refused by the drain.
  const codes = answers.map((a) => (a.status === 200 ? 'OK' : (JSON.parse(a.body) as { code: string }).code));
  const accepted = answers.filter((a) => a.status === 200);
  t.same(codes.filter((code) => code !== 'OK' && code !== 'QUEUE_FULL'), [], `every call answered: ${accepted.length} accepted and answered 200, ${answers.length - accepted.length} refused on arrival (QUEUE_FULL), none SHUTTING_DOWN`);
  t.ok(accepted.every((a) => (JSON.parse(a.body) as { predictions: unknown[] }).predictions.length === 64), 'each accepted call with its 64 predictions');
  const afterSigterm = accepted.filter((a) => a.at >= drainingAt).length;
  t.ok(afterSigterm > 0, `${afterSigterm} accepted calls were answered after SIGTERM (${queueDepth} texts waiting just before it)`);
  t.equal(await docker(['inspect', '--format', '{{.State.ExitCode}}', name]), '0', `exited 0 by itself, ${stopTime} after SIGTERM`);
  t.ok(logLines.some((line) => line.msg === 'drained; exiting'), 'its log says it drained');
});

// ---- 3 -----------------------------------------------------------------------------------------------
t.test('3. docker-compose up: NGINX, 2 api replicas, Redis, Prometheus', async (t) => {
  const started = performance.now();
  const up = await (stackUp ?? startStack());
  if (!grafana) t.comment(`Grafana is left out: its image ${composeDefault('GRAFANA_IMAGE')} is not in the engine (no Docker Hub here, and Debian has no Grafana package to build one from)`);
  t.equal(up.code, 0, `docker-compose up -d --scale api=2 ${services.join(' ')} (${up.time}, beside the docker run test: NGINX starts once a replica is healthy)`, { output: up.stderr });
  const nginx = `http://127.0.0.1:${ports.http}`;
  await waitUntil(async () => await httpStatus(`${nginx}/api/ready`) === 200, { timeoutMs: 30_000, intervalMs: 100, what: 'NGINX to answer' });
  const ready = await fetch(`${nginx}/api/ready`);
  t.equal(ready.status, 200, 'through NGINX on the host: /api/ready');
  t.match(await ready.json(), { status: 'ready' }, 'ready');
  await predictsReadmeExample(t, nginx, 'through NGINX');

  const replicas = await stack.addresses('api');
  t.equal(replicas.length, 2, 'two api replicas');
  t.pass(`Prometheus finds both replicas through DNS and scrapes them: up (${await (stackScraped ?? prometheusFindsAll(started, { up: true }))} after docker-compose up began)`);
});

// ---- 4 -----------------------------------------------------------------------------------------------
t.test('4. deploy/rolling-restart.sh under 200 connections through NGINX: no failed request', async (t) => {
  // Four clients of 50 connections, each connection one new text a second: 200 requests/s in all, each
  // client at 50/s, within NGINX's per-client limit (100/s), as four users would be.
  const network = `${stack.project}_default`;
  const clients = Array.from({ length: 4 }, (_, i) => `sentiment-load-${tag}-${i}`);
  cleanups.push(() => docker(['rm', '-f', ...clients]).catch(() => ''));
  await Promise.all(clients.map((name) => docker(['run', '-d', '--name', name, '--network', network,
    '-v', `${join(ROOT, 'node_modules')}:/load/node_modules:ro`, '-v', `${join(ROOT, 'test/helpers/load-client.mjs')}:/load/client.mjs:ro`,
    NODE_IMAGE, 'node', '/load/client.mjs', 'http://nginx/api/predict', '50'])));
  const before = await Promise.all((await stack.containers('api')).map((id) => docker(['inspect', '--format', '{{.State.StartedAt}}', id])));
  // The load is on before the first replica goes: NGINX answers requests of every client.
  const clientAddresses = await Promise.all(clients.map(addressOf));
  const answered = async () => new Set((await stack.nginxLog()).filter((l) => l.uri === '/api/predict').map((l) => l.remote_addr));
  await waitUntil(async () => { const seen = await answered(); return clientAddresses.every((address) => seen.has(address)); },
    { timeoutMs: 30_000, intervalMs: 500, what: 'every load client to be answered' }).catch(async (error: Error) => {
    const logs = await Promise.all(clients.map((name) => run(DOCKER, ['logs', '--tail', '20', name], { env: DOCKER_ENV })));
    throw new Error(`${error.message}\n${logs.map((log, i) => `${clients[i]}: ${log.stdout}${log.stderr}`).join('\n')}`);
  });

  const started = performance.now();
  const restart = await run(join(ROOT, 'deploy/rolling-restart.sh'), [], { env: { ...DOCKER_ENV, COMPOSE: stack.commandLine }, timeoutMs: 300_000 });
  const restartTime = seconds(started);
  // A moment of load on the restarted replicas, then the clients stop and report.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await docker(['stop', '--time', '20', ...clients]);
  const reports = await Promise.all(clients.map(async (name) => JSON.parse((await docker(['logs', name])).split('\n').at(-1)!) as Record<string, number>));
  t.equal(restart.code, 0, `rolling-restart.sh (${restartTime})`, { output: `${restart.stdout}${restart.stderr}` });
  t.equal(restart.stdout.match(/ healthy$/gm)?.length, 2, 'both replicas restarted and healthy again', { output: restart.stdout });
  const after = await Promise.all((await stack.containers('api')).map((id) => docker(['inspect', '--format', '{{.State.StartedAt}}', id])));
  t.ok(after.every((time) => !before.includes(time)), 'every replica started anew');

  const total = (key: string) => reports.reduce((sum, report) => sum + (report[key] ?? 0), 0);
  t.ok(total('2xx') > 0, `${total('2xx')} requests answered 200 by ${clients.length} clients over ${restartTime} and more`);
  t.same({ non2xx: total('non2xx'), errors: total('errors'), timeouts: total('timeouts') }, { non2xx: 0, errors: 0, timeouts: 0 }, 'no failed request: no error status, no connection error, no timeout', { reports });
  const retried = (await stack.nginxLog()).filter((line) => line.uri === '/api/predict' && line.upstream_addr.includes(','));
  t.comment(`NGINX retried ${retried.length} requests on another replica (a replica's connection closed or refused while it restarted)`);
});

// ---- 5 -----------------------------------------------------------------------------------------------
t.test('5. --scale api=3 with a rate limit shared through Redis; docker-compose down leaves nothing', async (t) => {
  // The same stack, now with RATE_LIMIT_MAX in .env: compose recreates the replicas with it, and adds a third.
  const limit = 30;
  writeFileSync(stackEnv, readmeEnv({
    API_IMAGE, GRAFANA_ADMIN_PASSWORD: 'test-only-password',
    HTTP_PORT: ports.http, HTTPS_PORT: await freePort('0.0.0.0'), PROMETHEUS_PORT: ports.prometheus, GRAFANA_PORT: await freePort(),
    WORKERS: 1, RATE_LIMIT_MAX: limit, API_HEALTH_INTERVAL: '2s',
  }));
  const started = performance.now();
  const up = await stack.run(['up', '-d', '--no-build', '--scale', 'api=3', ...services]);
  t.equal(up.code, 0, `docker-compose up -d --scale api=3 (${seconds(started)})`, { output: up.stderr });
  const replicas = await stack.addresses('api');
  t.equal(replicas.length, 3, 'three api replicas');
  // Prometheus re-resolves `api` every 5 s: checked while the rest runs. That it scrapes a replica it found
  // was shown above (3); here the scale-up is what is new.
  const prometheusFollows = prometheusFindsAll(started, { up: false });
  prometheusFollows.catch(() => undefined); // awaited below
  await waitUntil(async () => (await Promise.all((await stack.containers('api')).map(healthOf))).every((h) => h === 'healthy'), { timeoutMs: 60_000, intervalMs: 500, what: 'three healthy replicas' });

  // NGINX re-resolves `api` (every 10 s): requests reach every replica, the new one included.
  const nginx = `http://127.0.0.1:${ports.http}`;
  await waitUntil(async () => {
    await Promise.all(Array.from({ length: 6 }, () => fetch(`${nginx}/api/health`).then((r) => r.arrayBuffer())));
    const served = new Set((await stack.nginxLog()).filter((l) => l.uri === '/api/health').map((l) => l.upstream_addr.replace(/:5000$/, '')));
    return replicas.every((address) => served.has(address));
  }, { timeoutMs: 40_000, intervalMs: 1000, what: 'NGINX to send requests to all three replicas' });
  t.pass(`NGINX sends requests to all three replicas (${seconds(started)} after up)`);

  // 2 × limit calls at once from this host (one client for the service): NGINX passes them all (its burst is
  // 200) and spreads them over the replicas; the replicas count them together in Redis.
  const calls = await Promise.all(Array.from({ length: 2 * limit }, () => fetch(`${nginx}/api/model`).then(async (r) => ({ status: r.status, limit: r.headers.get('x-ratelimit-limit'), body: await r.json() as { code?: string } }))));
  t.equal(calls.filter((c) => c.status === 200).length, limit, `${limit} of ${2 * limit} calls answered 200: RATE_LIMIT_MAX=${limit} for all replicas together`);
  const refused = calls.filter((c) => c.status === 429);
  t.equal(refused.length, limit, `the other ${limit} answered 429`);
  t.ok(refused.every((c) => c.limit === String(limit) && c.body.code === 'RATE_LIMITED'), 'by the service (its rate-limit headers and error body), not by NGINX');
  const servedBy = new Set((await stack.nginxLog()).filter((l) => l.uri === '/api/model' && l.status === 200).map((l) => l.upstream_addr));
  t.ok(servedBy.size >= 2, `the ${limit} answered calls came from ${servedBy.size} replicas: one budget across replicas, kept in Redis`);
  t.pass(`Prometheus finds all three replicas through DNS (${await prometheusFollows} after up)`);

  const down = await stack.run(['down', '-v', '--remove-orphans']);
  t.equal(down.code, 0, 'docker-compose down -v', { output: down.stderr });
  t.same(await stack.leftovers(), [], 'no container, network or volume of the stack is left');
});

// ---- 6 -----------------------------------------------------------------------------------------------
t.test('6. the GPU image: built from Dockerfile.gpu when its CUDA base is in the engine', async (t) => {
  const cudaImage = /^ARG CUDA_IMAGE=(\S+)$/m.exec(read('Dockerfile.gpu'))![1]!;
  if (!(await imagePresent(cudaImage))) {
    const hub = await fetch('https://registry-1.docker.io/v2/', { signal: AbortSignal.timeout(5000) }).then((r) => `answers (${r.status})`, (error: Error) => `cannot be reached (${(error.cause as Error | undefined)?.message ?? error.message})`);
    t.comment(`GPU image not built: its base ${cudaImage} is not in this engine, and Docker Hub ${hub}; with the base pulled (docker pull ${cudaImage}) this test builds it`);
    t.notOk(await imagePresent(cudaImage), `${cudaImage} is absent: nothing to build the GPU image on`);
    return;
  }
  const started = performance.now();
  const gpuImage = 'tweet-sentiment-api:docker-test-gpu';
  const build = await run(DOCKER, ['build', '-f', 'Dockerfile.gpu', '-t', gpuImage, '.'], { env: DOCKER_ENV, timeoutMs: 1_800_000 });
  t.equal(build.code, 0, `docker build -f Dockerfile.gpu (${seconds(started)})`, { output: `${build.stdout}${build.stderr}`.slice(-8000) });
  const provider = await docker(['run', '--rm', '--entrypoint', 'ls', gpuImage, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64']);
  t.match(provider, /libonnxruntime_providers_cuda\.so/, 'the image holds ONNX Runtime\'s CUDA provider');
  t.equal(await docker(['inspect', '--format', '{{.Config.User}}', gpuImage]), '1000:1000', 'runs as uid 1000');
});
