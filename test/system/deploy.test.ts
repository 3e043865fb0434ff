// The deployment stack proved against real software, natively and on loopback only: no Docker
// engine runs here, so each file docker-compose.yml mounts is run by the same program the container would
// run (Debian's nginx and prometheus), with deploy/render-local.mjs changing only addresses and paths.
//   1. docker-compose config, promtool check/test, and the files agree with each other and the service;
//   2. two api replicas (the built service), NGINX (the project's nginx.conf, HTTP and HTTPS) and Prometheus
//      (the project's scrape config and alert rules);
//   3. traffic through NGINX: fair share per replica, JSON 429 from limit_req, /metrics not reachable, 413,
//      headers, JSON access log;
//   4. every PromQL expression of the Grafana dashboard and of the alert rules returns data from that
//      Prometheus; then a replica dies: POSTs are retried on the other one and the alert sees it down;
//   5. the Kubernetes manifests validate against the Kubernetes schemas (kubernetes-models, offline).
// Needs `npm run build` first, and nginx, prometheus (promtool), docker-compose and openssl installed.
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { validate as validateDockerfile } from 'dockerfile-utils';
import { Agent, fetch as undiciFetch, type Dispatcher } from 'undici';
import YAML from 'yaml';
import {
  ROOT, SERVER_MAIN, findBinary, freePort, run, startLocalNginx, startLocalPrometheus, startReplica, waitUntil,
  type Nginx, type Prometheus, type PromResult, type Replica,
} from '../../deploy/local-stack.js';
import { dashboardExpressions, grafanaToPromql, metricSum, ruleExpressions, splitTopLevelComparison, validateManifest } from '../helpers/deploy-checks.js';

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'deploy-test-'));
const cleanups: (() => Promise<void>)[] = [];
t.teardown(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

const dashboard = JSON.parse(read('deploy/grafana/dashboards/sentiment-api.json'));
const alertsYaml = read('deploy/prometheus/alerts.yml');
const promConfig = YAML.parse(read('deploy/prometheus/prometheus.yml'));

interface RawResponse { status: number; headers: IncomingHttpHeaders; body: string }

/** One HTTP request with the path sent exactly as given (fetch would normalize `/api/../metrics`). */
function raw(port: number, method: string, path: string, { headers = {}, body }: { headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { data += chunk; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: data }));
    });
    // NGINX may answer (413) and close before the whole body is written: the answer is what counts.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    req.end(body);
  });
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}, dispatcher?: Dispatcher) {
  const init = { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
  const response = dispatcher === undefined ? await fetch(url, init) : await undiciFetch(url, { ...init, dispatcher });
  return { status: response.status, headers: response.headers, json: await response.json() as Record<string, unknown> };
}

/** Runs `task` `total` times with at most `concurrency` at once; returns the results in order. */
async function pool<T>(total: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(total);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) { const i = next++; results[i] = await task(i); }
  }));
  return results;
}

const predictCount = async (replica: Replica) =>
  metricSum(await (await fetch(`${replica.url}/metrics`)).text(), 'http_request_duration_seconds_count', { method: 'POST', route: '/api/predict' });

const SECURITY_HEADERS = ['x-content-type-options', 'x-frame-options', 'referrer-policy', 'content-security-policy', 'x-request-id'];

// ---- 1 -----------------------------------------------------------------------------------------------
/** The environment compose gives an api replica when .env sets nothing but the Grafana password. */
let composeApiEnv: Record<string, string> = {};

t.test('1. docker-compose config, promtool, and the files agree with each other', async (t) => {
  const compose = findBinary('docker-compose');
  // Only our .env: nothing from the caller's environment (a password, COMPOSE_FILE, profiles) leaks in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('COMPOSE_') && !key.startsWith('GRAFANA_')));
  const envFile = join(work, 'compose.env');
  writeFileSync(envFile, 'GRAFANA_ADMIN_PASSWORD=test-only-password\n');
  const composeArgs = ['--env-file', envFile, '-f', 'docker-compose.yml'];

  for (const profile of [[], ['--profile', 'gpu']]) {
    const result = await run(compose, [...composeArgs, ...profile, 'config', '-q'], { env });
    t.equal(result.code, 0, `docker-compose ${profile.join(' ')} config -q ${result.stderr}`.replace(/\s+/g, ' '));
  }
  const emptyEnv = join(work, 'empty.env');
  writeFileSync(emptyEnv, '');
  const refused = await run(compose, ['--env-file', emptyEnv, '-f', 'docker-compose.yml', 'config', '-q'], { env });
  t.not(refused.code, 0, 'without GRAFANA_ADMIN_PASSWORD docker-compose refuses the file (no admin/admin default)');
  t.match(refused.stderr, /GRAFANA_ADMIN_PASSWORD/, 'and says which setting is missing');

  // MODEL_PATH in .env reaches the replicas: the .env the README builds, edited as deploy/README.md says.
  const modelPathOf = async (envText: string) => {
    const file = join(work, 'model.env');
    writeFileSync(file, envText);
    const out = await run(compose, ['--env-file', file, '-f', 'docker-compose.yml', '--profile', 'gpu', 'config'], { env });
    t.equal(out.code, 0, `docker-compose config ${out.stderr}`.replace(/\s+/g, ' '));
    const { services: resolvedServices } = YAML.parse(out.stdout) as { services: Record<string, { environment: Record<string, string> }> };
    return [resolvedServices.api!.environment.MODEL_PATH, resolvedServices['api-gpu']!.environment.MODEL_PATH];
  };
  const readmeEnv = `${read('.env.example')}${read('deploy/.env.example')}`.replace(/^GRAFANA_ADMIN_PASSWORD=.*$/m, 'GRAFANA_ADMIN_PASSWORD=test-only-password');
  t.same(await modelPathOf(readmeEnv), ['/app/models/twitter-sentiment', '/app/models/twitter-sentiment'], 'MODEL_PATH empty: the image\'s model');
  const edited = readmeEnv.replace(/^MODEL_PATH=.*$/m, 'MODEL_PATH=/models/mine');
  t.same(await modelPathOf(edited), ['/models/mine', '/models/mine'], 'MODEL_PATH=/models/mine in .env reaches the CPU and GPU replicas');
  t.match(read('deploy/README.md'), "sed -i 's|^MODEL_PATH=.*|MODEL_PATH=/models/current|' .env", 'the edit this test makes is the one deploy/README.md gives');

  const resolved = await run(compose, [...composeArgs, '--profile', 'gpu', 'config'], { env });
  const { services, volumes } = YAML.parse(resolved.stdout) as { services: Record<string, any>; volumes: Record<string, unknown> };
  t.same(Object.keys(services).sort(), ['api', 'api-gpu', 'grafana', 'nginx', 'prometheus', 'redis'], 'services');
  for (const name of ['api', 'api-gpu']) {
    const api = services[name];
    t.notOk(api.container_name, `${name}: no container_name (scalable)`);
    t.notOk(api.ports, `${name}: no host port (scalable)`);
    t.same(api.expose, ['5000'], `${name}: port 5000 for NGINX and Prometheus`);
    t.equal(api.environment.PORT, '5000', `${name}: PORT=5000`);
    t.equal(api.environment.HOST, '0.0.0.0', `${name}: HOST=0.0.0.0`);
  }
  composeApiEnv = services.api.environment;
  t.equal(services.api.environment.DEVICE, 'cpu', 'api: DEVICE=cpu');
  t.equal(services['api-gpu'].environment.DEVICE, 'cuda', 'api-gpu: DEVICE=cuda');
  t.equal(services.api.build.target, 'runtime', 'api: the CPU image');
  t.equal(services['api-gpu'].build.target, 'gpu', 'api-gpu: the GPU image');
  t.equal(services['api-gpu'].build.dockerfile, 'Dockerfile.gpu', 'api-gpu: built from Dockerfile.gpu');
  t.equal(services.api.environment.REDIS_URL, 'redis://redis:6379/0', 'REDIS_URL empty in .env: the stack\'s Redis');
  t.same(services['api-gpu'].profiles, ['gpu'], 'GPU replicas only with --profile gpu');
  t.ok(services['api-gpu'].networks.default.aliases.includes('api'), 'GPU replicas answer to the DNS name api');
  t.ok(services['api-gpu'].deploy.resources.reservations.devices.some((d: any) => d.driver === 'nvidia' && d.capabilities.includes('gpu')), 'GPU reservation');
  for (const [name, service] of Object.entries(services)) {
    t.equal(service.restart, 'unless-stopped', `${name}: restart policy`);
    t.ok(service.healthcheck?.test, `${name}: health check`);
  }
  t.equal(services.nginx.depends_on.api.condition, 'service_healthy', 'nginx waits for a healthy api');
  t.equal(services.grafana.depends_on.prometheus.condition, 'service_healthy', 'grafana waits for a healthy prometheus');
  t.ok(services.nginx.ports.some((p: string | { target: number }) => (typeof p === 'string' ? p.endsWith(':80') : p.target === 80)), 'nginx publishes port 80');
  t.same(Object.keys(volumes).sort(), ['grafana-data', 'prometheus-data'], 'named volumes');
  t.ok(services.prometheus.volumes.some((v: string) => v.startsWith('prometheus-data:')), 'prometheus data on its named volume');
  t.ok(services.grafana.volumes.some((v: string) => v.startsWith('grafana-data:')), 'grafana data on its named volume');
  t.equal(services.grafana.environment.GF_SECURITY_ADMIN_PASSWORD, 'test-only-password', 'grafana admin password from .env');

  // Every bind mount of a repository file exists (./models is created by the model's owner, so not checked).
  const mounts = new Map<string, string>();
  for (const [name, service] of Object.entries(services)) {
    for (const volume of (service.volumes ?? []) as string[]) {
      const [source, target] = volume.split(':');
      if (!source!.startsWith('/')) continue;
      mounts.set(target!, source!);
      if (basename(source!) !== 'models') t.ok(existsSync(source!), `${name}: mounted ${source!.replace(`${ROOT}/`, '')} exists`);
    }
  }

  // The files agree with each other.
  const nginxConf = read('nginx.conf');
  t.equal(mounts.get('/etc/nginx/nginx.conf'), join(ROOT, 'nginx.conf'), 'nginx.conf is what nginx runs');
  t.match(nginxConf, /include \/etc\/nginx\/tls\/\*\.conf;/, 'nginx includes the mounted TLS directory');
  t.equal(mounts.get('/etc/nginx/tls'), join(ROOT, 'deploy/nginx/tls'), '... which compose mounts');
  t.match(nginxConf, /server api:5000 resolve/, 'nginx upstream: the DNS name api, port 5000, re-resolved');
  const apiJob = promConfig.scrape_configs.find((job: { job_name: string }) => job.job_name === 'api');
  t.same(apiJob.dns_sd_configs, [{ names: ['api'], type: 'A', port: 5000, refresh_interval: '5s' }], 'prometheus finds the replicas through DNS (type A, api:5000)');
  t.equal(mounts.get('/etc/prometheus'), join(ROOT, 'deploy/prometheus'), 'prometheus config and rules are mounted');
  t.ok(services.prometheus.command.includes('--config.file=/etc/prometheus/prometheus.yml'), 'prometheus reads the mounted prometheus.yml');
  const datasources = YAML.parse(read('deploy/grafana/provisioning/datasources/prometheus.yml'));
  const datasource = datasources.datasources[0];
  t.equal(datasource.url, 'http://prometheus:9090', 'grafana reaches the prometheus service');
  t.equal(mounts.get('/etc/grafana/provisioning'), join(ROOT, 'deploy/grafana/provisioning'), 'grafana provisioning is mounted');
  const provider = YAML.parse(read('deploy/grafana/provisioning/dashboards/sentiment.yml')).providers[0];
  t.equal(mounts.get(provider.options.path), join(ROOT, 'deploy/grafana/dashboards'), 'the dashboards provider reads the mounted dashboards');
  t.equal(services.grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH, `${provider.options.path}/sentiment-api.json`, 'the dashboard is the home page');

  // The dashboard: the panels of the issue, all on the provisioned datasource.
  const panels = (dashboard.panels as any[]).flatMap((panel) => [panel, ...(panel.panels ?? [])]).filter((panel) => panel.type !== 'row');
  const ids = (dashboard.panels as any[]).flatMap((panel) => [panel.id, ...(panel.panels ?? []).map((p: any) => p.id)]);
  t.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  for (const panel of panels) {
    t.equal(panel.datasource?.uid, datasource.uid, `panel "${panel.title}" uses the provisioned datasource`);
    t.ok(panel.targets.every((target: any) => target.datasource?.uid === datasource.uid), `panel "${panel.title}": every query too`);
    t.ok(panel.gridPos.x + panel.gridPos.w <= 24, `panel "${panel.title}" fits the grid`);
  }
  const titles = panels.map((panel) => panel.title).join(' | ');
  for (const wanted of [/Request rate/, /latency p50 \/ p90 \/ p99/, /Error rate/, /Queue depth/, /Batch size/, /Queue wait vs inference/, /Memory/, /Event-loop lag/, /Replicas up/, /GPU/]) {
    t.match(titles, wanted, `dashboard has a panel ${wanted}`);
  }
  t.ok(panels.filter((panel) => /GPU/.test(panel.title)).every((panel) => panel.targets.every((target: any) => /sentiment_model_info\{[^}]*device!="cpu"/.test(target.expr))), 'GPU panels select replicas with device != cpu from sentiment_model_info');

  // The service's own limits, as the built service reads them.
  const { loadConfig } = await import(join(ROOT, 'dist/core/config.js')) as typeof import('../../core/config.js');
  const defaults = loadConfig({}, []);
  const { SETTINGS } = await import(join(ROOT, 'dist/core/config.js')) as typeof import('../../core/config.js');
  for (const name of ['api', 'api-gpu']) {
    const missing = SETTINGS.map((setting) => setting.env).filter((env) => !(env in services[name].environment));
    t.same(missing, [], `${name}: compose passes every setting of core/config.ts (add new ones to x-api-environment)`);
  }
  const bodyLimit = /client_max_body_size\s+(\d+)m;/.exec(nginxConf);
  t.equal(Number(bodyLimit?.[1]) * 1024 * 1024, defaults.bodyLimit, 'nginx client_max_body_size = BODY_LIMIT');
  const readTimeout = /proxy_read_timeout\s+(\d+)s;/.exec(nginxConf);
  t.ok(Number(readTimeout?.[1]) * 1000 > defaults.requestTimeoutMs, 'nginx waits longer than REQUEST_TIMEOUT_MS (the service answers 504 itself)');

  // promtool: configuration, rules, and the rules' unit tests.
  const promtool = findBinary('promtool');
  for (const args of [['check', 'config', 'deploy/prometheus/prometheus.yml'], ['check', 'rules', 'deploy/prometheus/alerts.yml'], ['test', 'rules', 'deploy/prometheus/alerts.test.yml']]) {
    const result = await run(promtool, args);
    t.equal(result.code, 0, `promtool ${args.join(' ')}`, { output: `${result.stdout}${result.stderr}` });
  }
  const alertNames = ruleExpressions(alertsYaml).map((rule) => rule.where);
  for (const alert of ['HighErrorRate', 'HighLatencyP99', 'QueueSaturated', 'ReplicaDown']) {
    t.ok(alertNames.some((name) => name.includes(alert)), `alert rule ${alert}`);
  }

  // The Dockerfiles: valid syntax (the linter of VS Code's Docker support), stages, non-root user, the
  // command, what the build context holds.
  const dockerfile = read('Dockerfile');
  const gpuDockerfile = read('Dockerfile.gpu');
  const stagesOf = (text: string) => [...text.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gm)].map((m) => m[1]);
  for (const [file, text] of [['Dockerfile', dockerfile], ['Dockerfile.gpu', gpuDockerfile]] as const) {
    t.same(validateDockerfile(text).map((d) => `line ${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`), [], `${file} lints clean (dockerfile-utils)`);
    t.equal(text.match(/^USER 1000:1000$/gm)?.length, 1, `${file}: the image runs as uid 1000`);
    t.equal(text.match(/^CMD \["node", "dist\/server\/main.js"\]$/gm)?.length, 1, `${file}: the image runs node dist/server/main.js`);
  }
  // The classic builder runs every stage up to the target: a CPU build must find no GPU stage to run.
  t.same(stagesOf(dockerfile), ['build', 'prod-deps', 'runtime'], 'Dockerfile stages: no GPU stage; runtime (CPU) is the default target');
  t.notMatch(dockerfile.replace(/^\s*#.*$/gm, ''), /cuda/i, 'Dockerfile\'s instructions name no CUDA image or provider');
  t.same(stagesOf(gpuDockerfile), ['build', 'prod-deps-gpu', 'node-binary', 'gpu'], 'Dockerfile.gpu stages; gpu is the default target');
  const buildStage = (text: string) => /^FROM \S+ AS build\n[\s\S]*?(?=\n# ---- )/m.exec(text)?.[0];
  t.ok(buildStage(dockerfile), 'Dockerfile has a build stage');
  t.equal(buildStage(gpuDockerfile), buildStage(dockerfile), 'Dockerfile.gpu builds the application exactly as Dockerfile does');
  t.match(dockerfile, /npm prune --omit=dev/, 'runtime dependencies without dev dependencies');
  t.match(gpuDockerfile, /ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install/, 'GPU image installs the CUDA execution provider');
  t.ok(existsSync(SERVER_MAIN), 'which npm run build produces');
  const allowed = read('.dockerignore').split('\n').filter((line) => line.startsWith('!')).map((line) => line.slice(1).replace(/\/$/, ''));
  for (const match of `${dockerfile}\n${gpuDockerfile}`.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
    for (const source of match[1]!.split(/\s+/)) {
      t.ok(allowed.includes(source.split('/')[0]!), `build context includes ${source}`);
      t.ok(existsSync(join(ROOT, source)), `${source} exists`);
    }
  }
});

// ---- 2 -----------------------------------------------------------------------------------------------
let replicas: Replica[] = [];
let nginx: (Nginx & { tlsUrl?: string }) | undefined;
let prometheus: Prometheus | undefined;
let certPem = '';

t.test('2. two replicas, NGINX and Prometheus on loopback', async (t) => {
  const started = Date.now();
  // The second replica gets what compose gives a replica when .env sets nothing: every setting empty,
  // which must mean the service's defaults (only the addresses, the stack's Redis included, and the
  // fixture model differ).
  const { HOST: _host, PORT: _port, MODEL_PATH: _model, REDIS_URL: _redis, ...fromCompose } = composeApiEnv;
  const [first, second] = await Promise.all([startReplica(), startReplica({ env: fromCompose })]);
  replicas = [first, second];
  cleanups.push(...replicas.map((replica) => () => replica.stop()));

  // A self-signed certificate for 127.0.0.1, mounted the way deploy/nginx/tls/ is in production.
  const certDir = join(work, 'certs');
  mkdirSync(certDir);
  const openssl = await run(findBinary('openssl'), ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(certDir, 'tls.key'), '-out', join(certDir, 'tls.crt')]);
  t.equal(openssl.code, 0, 'self-signed certificate', { output: openssl.stderr });
  certPem = readFileSync(join(certDir, 'tls.crt'), 'utf8');

  const [tlsPort] = await Promise.all([freePort()]);
  nginx = await startLocalNginx({ dir: join(work, 'nginx'), upstreams: replicas.map((replica) => replica.address), tls: { port: tlsPort, certDir } });
  cleanups.push(() => nginx!.stop());
  prometheus = await startLocalPrometheus({ dir: join(work, 'prometheus'), apiTargets: replicas.map((replica) => replica.address) });
  cleanups.push(() => prometheus!.stop());
  t.ok(Object.keys(fromCompose).length > 10, `a replica starts with the ${Object.keys(fromCompose).length} settings compose passes, empty`);
  t.comment(`stack up in ${Date.now() - started} ms: replicas ${replicas.map((r) => r.port).join(', ')}, nginx ${nginx.port} (TLS ${tlsPort}), prometheus ${prometheus.port}`);

  const health = await fetch(`${nginx.url}/api/health`);
  t.equal(health.status, 200, "the seed's path through NGINX: /api/health");
  t.same(await health.json(), { status: 'healthy', message: 'API is running' }, "the seed's exact body");

  // The health checks of the Dockerfile and the compose file, run as written against a replica.
  const dockerfiles = `${read('Dockerfile')}\n${read('Dockerfile.gpu')}`;
  const composeFile = read('docker-compose.yml');
  const healthScripts = [
    ...[...dockerfiles.matchAll(/CMD \["node", "-e", "(.+)"\]/g)].map((m) => ({ from: 'Dockerfile', script: JSON.parse(`"${m[1]}"`) as string })),
    ...[...composeFile.matchAll(/test: \["CMD", "node", "-e", "(.+)"\]/g)].map((m) => ({ from: 'docker-compose.yml', script: m[1]!.replace(':5000/', ':\'+process.env.PORT+\'/') })),
  ];
  t.equal(healthScripts.length, 3, 'two Dockerfile health checks, one compose health check');
  const closedPort = await freePort();
  for (const { from, script } of healthScripts) {
    const up = await run(process.execPath, ['-e', script], { env: { ...process.env, NODE_OPTIONS: '', PORT: String(first.port) } });
    t.equal(up.code, 0, `${from} health check passes on a live replica`);
    const down = await run(process.execPath, ['-e', script], { env: { ...process.env, NODE_OPTIONS: '', PORT: String(closedPort) } });
    t.equal(down.code, 1, `${from} health check fails where nothing listens`);
  }
});

// ---- 3 -----------------------------------------------------------------------------------------------
t.test('3. traffic through NGINX', async (t) => {
  if (!nginx || replicas.length !== 2) return t.fail('stack not started');
  const url = nginx.url;

  // Fair share, counted by each replica's own metrics. One request at a time, both replicas always have
  // 0 requests in flight, so least_conn falls back to round robin: an even split. Then 8 at a time, where
  // least_conn favours whichever replica is less busy at that moment: both must still take a real part.
  const served = async (concurrency: number, total: number) => {
    const before = await Promise.all(replicas.map(predictCount));
    const results = await pool(total, concurrency, (i) => postJson(`${url}/api/predict`, { text: `test tweet number ${i} is ${i % 2 ? 'great' : 'awful'}` }));
    t.same(results.filter((r) => r.status !== 200).map((r) => r.status), [], `${total} predictions through NGINX, ${concurrency} at a time: all 200`);
    const after = await Promise.all(replicas.map(predictCount));
    const counts = after.map((count, i) => count - before[i]!);
    t.equal(counts[0]! + counts[1]!, total, `the replicas counted every request (${counts.join(' + ')})`);
    return counts;
  };
  const sequential = await served(1, 60);
  for (const [i, count] of sequential.entries()) t.ok(count >= 24 && count <= 36, `one at a time: replica ${i} served ${count} of 60 (40-60%)`);
  const concurrent = await served(8, 120);
  for (const [i, count] of concurrent.entries()) t.ok(count >= 18, `8 at a time: replica ${i} served ${count} of 120 (at least 15%)`);
  const total = 180;

  // Response headers: the service's own pass through, NGINX adds the security headers and the request id.
  const tagged = await postJson(`${url}/api/predict`, { text: 'headers please' }, { 'x-request-id': 'deploy-test-42' });
  t.equal(tagged.status, 200, 'POST /api/predict with a request id');
  for (const header of ['x-model-version', 'x-queue-time', 'x-inference-time', 'x-total-time']) t.ok(tagged.headers.get(header), `service header ${header} passes through`);
  for (const header of SECURITY_HEADERS) t.ok(tagged.headers.get(header), `NGINX adds ${header}`);
  t.equal(tagged.headers.get('x-request-id'), 'deploy-test-42', "the client's request id comes back");
  t.equal(tagged.headers.get('strict-transport-security'), null, 'no HSTS over plain HTTP');
  t.equal(tagged.headers.get('retry-after'), null, 'no Retry-After on a 200');
  t.equal(tagged.headers.get('server'), 'nginx', 'server_tokens off: no version');
  const batch = await postJson(`${url}/api/predict/batch`, { texts: ['one', 'two', 'three'] });
  t.equal(batch.status, 200, 'POST /api/predict/batch through NGINX');
  // The protocol routes, so that step 4 sees them on the dashboard's protocol panel.
  const protocolCalls = await Promise.all([
    postJson(`${url}/predict`, { inputs: 'through nginx' }),
    postJson(`${url}/v2/models/sentiment/infer`, { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['through nginx'] }] }),
    postJson(`${url}/hf/text-classification`, { inputs: 'through nginx' }),
  ]);
  t.same(protocolCalls.map((r) => r.status), [200, 200, 200], 'TEI, V2 and HF task calls through NGINX');
  const docs = await fetch(`${url}/docs/json`);
  t.equal(docs.status, 200, 'the OpenAPI description through NGINX');
  await docs.arrayBuffer();

  // HTTPS with the TLS snippet: same server, same routes, plus HSTS.
  const secure = await new Promise<RawResponse>((resolve, reject) => {
    const req = httpsRequest(`${nginx!.tlsUrl}/api/health`, { ca: certPem, agent: false }, (res) => {
      let data = '';
      res.on('data', (chunk: Buffer) => { data += chunk.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(secure.status, 200, 'HTTPS /api/health (tls.conf.example with a mounted certificate)');
  t.same(JSON.parse(secure.body), { status: 'healthy', message: 'API is running' }, 'HTTPS reaches the replicas');
  t.match(secure.headers['strict-transport-security'], /max-age=\d+/, 'HSTS over HTTPS');

  // /metrics is not reachable through NGINX, however the path is spelled.
  for (const path of ['/metrics', '/metrics/', '/api/../metrics', '/api/%2e%2e/metrics', '/api/..%2fmetrics', '//metrics', '/api/metrics', '/docs/../metrics']) {
    const response = await raw(nginx.port, 'GET', path);
    t.equal(response.status, 404, `GET ${path}: 404`);
    t.notMatch(response.body, /process_cpu|sentiment_/, `GET ${path}: no metrics in the body`);
    t.match(JSON.parse(response.body), { statusCode: 404, code: 'NOT_FOUND', error: 'Not Found' }, `GET ${path}: JSON error`);
  }
  for (const path of ['/api/admin/reload', '/api/admin/', '/api//admin/reload', '/api/./admin/reload']) {
    const admin = await raw(nginx.port, 'POST', path, { headers: { 'content-type': 'application/json' }, body: '{}' });
    t.equal(admin.status, 404, `POST ${path}: the admin API is not reachable through NGINX`);
    t.match(JSON.parse(admin.body), { statusCode: 404, code: 'NOT_FOUND' }, `POST ${path}: JSON error`);
  }
  t.notOk(nginx.accessLog().some((entry) => String(entry.uri).includes('admin') && entry.upstream_addr !== ''), 'no admin call reached a replica');
  const unknown = await raw(nginx.port, 'GET', '/nope');
  t.equal(unknown.headers['content-type'], 'application/json', 'NGINX errors are application/json');
  for (const header of SECURITY_HEADERS) t.ok(unknown.headers[header], `error responses carry ${header}`);

  // Bodies over BODY_LIMIT are refused by NGINX, as JSON.
  const tooLarge = await raw(nginx.port, 'POST', '/api/predict', { headers: { 'content-type': 'application/json' }, body: Buffer.alloc(2 * 1024 * 1024 + 1, 0x20) });
  t.equal(tooLarge.status, 413, 'body over 2 MiB: 413');
  t.match(JSON.parse(tooLarge.body), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }, '413 body is the API error shape, with the service\'s code');

  // The JSON access log, with the upstream's address and time.
  const log = nginx.accessLog();
  const proxied = log.filter((entry) => entry.uri === '/api/predict' && entry.status === 200);
  t.ok(proxied.length >= total, `access log: one JSON object per request (${log.length} lines)`);
  t.ok(proxied.every((entry) => replicas.some((r) => r.address === entry.upstream_addr) && Number(entry.upstream_response_time) >= 0 && entry.upstream_response_time !== ''),
    'access log entries carry upstream_addr and upstream_response_time');
  t.ok(log.some((entry) => entry.request_id === 'deploy-test-42'), 'access log carries the request id');

  // Per-client limit_req: a burst far over 100 r/s + 200 gets JSON 429s with Retry-After.
  // Rounds of 300 requests, 60 at a time, until one is limited (the first round is enough on any machine
  // that sends more than 100 r/s + 200).
  const flood: { status: number; headers: Headers; body: string }[] = [];
  for (let round = 0; round < 5 && !flood.some((r) => r.status === 429); round++) {
    flood.push(...await pool(300, 60, async () => {
      const response = await fetch(`${url}/api/health`);
      return { status: response.status, headers: response.headers, body: await response.text() };
    }));
  }
  const limited = flood.filter((r) => r.status === 429);
  t.ok(limited.length > 0, `limit_req answered 429 to ${limited.length} of ${flood.length} requests`);
  t.ok(flood.some((r) => r.status === 200), 'and served the burst it allows');
  t.same(flood.filter((r) => r.status !== 200 && r.status !== 429).map((r) => r.status), [], 'nothing but 200 and 429');
  const first429 = limited[0]!;
  t.match(JSON.parse(first429.body), { statusCode: 429, code: 'RATE_LIMITED', error: 'Too Many Requests', message: String }, '429 body is the API error shape');
  t.equal(first429.headers.get('content-type'), 'application/json', '429 is application/json');
  t.equal(first429.headers.get('retry-after'), '1', '429 carries Retry-After: 1');
});

// ---- 4 -----------------------------------------------------------------------------------------------
t.test('4. every dashboard and alert expression returns data from the live Prometheus', async (t) => {
  if (!prometheus || !nginx || replicas.length !== 2) return t.fail('stack not started');
  const prom = prometheus;
  await waitUntil(async () => {
    const targets = await prom.get<{ data: { activeTargets: { labels: { job: string }; health: string }[] } }>('/api/v1/targets');
    return targets.data.activeTargets.filter((target) => target.labels.job === 'api' && target.health === 'up').length === 2;
  }, { timeoutMs: 15_000, what: 'both replicas scraped' });
  t.pass('prometheus scrapes both replicas (job="api")');

  // How each expression is judged (expressions are never edited beyond this):
  // - Dashboard queries run as Grafana sends them, with $__rate_interval as 1m; each must return data.
  // - An alert expression that ends in a comparison with a number (`A > 0.05`) returns data only while the
  //   alert fires, so A (the value the alert compares) must return data, and the whole expression must be
  //   accepted by Prometheus. The rules are written so that A always has data: `or vector(0)` where a
  //   series only appears with the first 5xx, counters that the service creates at 0. When each alert
  //   fires is promtool's business (deploy/prometheus/alerts.test.yml, step 1).
  // - GPU panels keep only replicas with sentiment_model_info{device!="cpu"}, and every replica here runs
  //   on CPU: they must be accepted as written, and must return data with the device filter widened to
  //   device!="" (which proves the join on instance and the metric names against real replicas).
  interface Check { where: string; query: string; needData: boolean }
  const checks: Check[] = [];
  for (const { where, expr } of dashboardExpressions(dashboard)) {
    const query = grafanaToPromql(expr, { rateInterval: '1m' });
    if (query.includes('device!="cpu"')) {
      checks.push({ where: `${where} (as written; no GPU here)`, query, needData: false });
      checks.push({ where: `${where} (device filter widened)`, query: query.replaceAll('device!="cpu"', 'device!=""'), needData: true });
    } else {
      checks.push({ where, query, needData: true });
    }
  }
  for (const { where, expr } of ruleExpressions(alertsYaml)) {
    const split = splitTopLevelComparison(expr);
    checks.push({ where: `${where} (whole condition)`, query: expr, needData: false });
    checks.push({ where: split ? `${where} (without "${split.op} ${split.threshold}")` : where, query: split ? split.base : expr, needData: true });
  }
  t.ok(checks.length >= 30, `${checks.length} queries from ${dashboardExpressions(dashboard).length} dashboard targets and ${ruleExpressions(alertsYaml).length} alert rules`);

  // Rates need two scrapes after the traffic: poll until every query that must return data does.
  const answers = new Map<Check, PromResult>();
  const deadline = Date.now() + 20_000;
  for (;;) {
    const pending = checks.filter((check) => !answers.has(check) || (check.needData && !answers.get(check)!.data?.result.length));
    await Promise.all(pending.map(async (check) => answers.set(check, await prom.query(check.query))));
    const waiting = checks.filter((check) => check.needData && !answers.get(check)!.data?.result.length);
    if (waiting.length === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  for (const check of checks) {
    const answer = answers.get(check)!;
    t.equal(answer.status, 'success', `${check.where}: accepted by Prometheus`, { query: check.query, error: answer.error });
    if (check.needData) {
      t.ok((answer.data?.result.length ?? 0) > 0, `${check.where}: returns data`, { query: check.query });
    }
  }

  // The protocol panel tells the ways in apart: step 3 sent /api, TEI, V2 and HF task calls.
  const protocolPanel = dashboardExpressions(dashboard).find((e) => e.where.startsWith('panel "Prediction requests by protocol"'))!;
  const protocols = async () => ((await prom.query(grafanaToPromql(protocolPanel.expr, { rateInterval: '1m' }))).data?.result ?? []).map((r) => r.metric.protocol).sort();
  await waitUntil(async () => (await protocols()).length === 4, { timeoutMs: 10_000, what: 'every protocol on the panel' }).catch(() => undefined);
  t.same(await protocols(), ['HF task', 'TEI', 'V2', 'service (/api)'], 'the protocol panel shows each way in');

  // Prometheus evaluates the loaded rules without error.
  await waitUntil(async () => {
    const rules = await prom.get<{ data: { groups: { rules: { health: string }[] }[] } }>('/api/v1/rules');
    return rules.data.groups.flatMap((group) => group.rules).every((rule) => rule.health !== 'unknown');
  }, { timeoutMs: 10_000, what: 'rules evaluated' });
  const rules = await prom.get<{ data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } }>('/api/v1/rules');
  const loaded = rules.data.groups.flatMap((group) => group.rules);
  t.equal(loaded.length, ruleExpressions(alertsYaml).length, 'prometheus loaded every rule of alerts.yml');
  for (const rule of loaded) t.equal(rule.health, 'ok', `rule ${rule.name} evaluates without error`, { lastError: rule.lastError });
});

t.test('4b. a replica dies: POSTs are retried on the other one, and the alert sees it down', async (t) => {
  if (!prometheus || !nginx || replicas.length !== 2) return t.fail('stack not started');
  // Step 3 spent this client's limit_req bucket (100 r/s, burst 200). NGINX counts per client address, so
  // these requests come from another loopback address, with a bucket of its own, instead of waiting for a refill.
  const otherClient = new Agent({ localAddress: '127.0.0.2' });
  t.teardown(() => otherClient.close());
  const [alive, dead] = replicas as [Replica, Replica];
  await dead.stop('SIGKILL');
  const logBefore = nginx.accessLog().length;
  const results = await pool(20, 2, (i) => postJson(`${nginx!.url}/api/predict`, { text: `after the crash ${i}` }, {}, otherClient));
  t.same(results.map((r) => r.status), new Array(20).fill(200), 'every prediction answered 200 with one replica gone');
  const retried = nginx.accessLog().slice(logBefore).filter((entry) => String(entry.upstream_addr).includes(dead.address) && String(entry.upstream_addr).includes(alive.address));
  t.ok(retried.length > 0, `NGINX retried ${retried.length} POST(s) on the live replica (upstream_addr "${String(retried[0]?.upstream_addr)}")`);

  const prom = prometheus;
  let down: PromResult | undefined;
  await waitUntil(async () => {
    down = await prom.query('up{job="api"} == 0');
    return (down.data?.result.length ?? 0) > 0;
  }, { timeoutMs: 10_000, what: 'up == 0 for the dead replica' });
  t.same(down!.data!.result.map((series) => series.metric.instance), [dead.address], 'SentimentApiReplicaDown condition names the dead replica');
});

// ---- 5 -----------------------------------------------------------------------------------------------
t.test('5. Kubernetes manifests validate against the Kubernetes schemas', async (t) => {
  const dir = join(ROOT, 'deploy/k8s');
  const files = readdirSync(dir).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml').sort();
  const kustomization = YAML.parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
  t.same([...kustomization.resources].sort(), files, 'kustomization.yaml lists every manifest');
  const objects: any[] = [];
  for (const file of files) {
    for (const doc of YAML.parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const object = doc.toJSON();
      if (object === null) continue;
      objects.push(object);
      const check = await validateManifest(file, object);
      t.same(check.errors, [], `${file}: ${check.kind} ${check.name} is valid`);
    }
  }
  const byKind = (kind: string) => objects.filter((object) => object.kind === kind);
  t.same(objects.map((object) => object.kind).sort(), ['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service'], 'Deployment, Service, HPA, PDB');

  // The validator does reject what Kubernetes would: a control case.
  const broken = structuredClone(byKind('Deployment')[0]);
  broken.spec.replicas = 'two';
  t.not((await validateManifest('broken', broken)).errors.length, 0, 'control: a Deployment with replicas: "two" is rejected');

  // What the schemas cannot see: the objects agree with each other and with the image.
  const deployment = byKind('Deployment')[0];
  const pod = deployment.spec.template;
  const labels = pod.metadata.labels;
  const matches = (selector: Record<string, string>) => Object.entries(selector).every(([key, value]) => labels[key] === value);
  t.ok(matches(deployment.spec.selector.matchLabels), 'Deployment selector matches its pods');
  t.ok(matches(byKind('Service')[0].spec.selector), 'Service selects the pods');
  t.ok(matches(byKind('PodDisruptionBudget')[0].spec.selector.matchLabels), 'PodDisruptionBudget selects the pods');
  const hpa = byKind('HorizontalPodAutoscaler')[0];
  t.same(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name }, 'HPA scales the Deployment');
  t.ok(hpa.spec.metrics.some((m: any) => m.type === 'Resource' && m.resource.name === 'cpu'), 'HPA on CPU');
  t.ok(hpa.spec.metrics.some((m: any) => m.type === 'Pods' && m.pods.metric.name === 'sentiment_queue_depth'), 'HPA on sentiment_queue_depth (custom metrics)');
  const container = pod.spec.containers[0];
  const portNames = container.ports.map((port: any) => port.name);
  const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
  t.equal(container.ports.find((port: any) => port.name === 'http').containerPort, Number(env.PORT), 'container port = PORT');
  t.ok(portNames.includes(byKind('Service')[0].spec.ports[0].targetPort), 'Service targetPort names a container port');
  t.equal(container.readinessProbe.httpGet.path, '/api/ready', 'readiness on /api/ready');
  t.equal(container.livenessProbe.httpGet.path, '/api/health', 'liveness on /api/health');
  for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) t.ok(portNames.includes(container[probe].httpGet.port), `${probe} port names a container port`);
  t.ok(container.resources.requests.cpu && container.resources.requests.memory && container.resources.limits.memory, 'resources');
  const preStop = container.lifecycle.preStop.sleep.seconds;
  t.ok(pod.spec.terminationGracePeriodSeconds >= preStop + 20, `terminationGracePeriodSeconds covers preStop (${preStop} s) + the 10 s request deadline`);
  t.equal(pod.spec.securityContext.runAsUser, 1000, 'runs as uid 1000, the image user');
  t.equal(pod.spec.securityContext.runAsNonRoot, true, 'runAsNonRoot');
});
