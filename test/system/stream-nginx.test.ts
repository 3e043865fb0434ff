// POST /api/predict/stream through the project's nginx.conf (real NGINX on loopback, rendered by
// deploy/render-local.mjs): a body far over the 2 MiB of the other /api/ routes streams through, and the
// answer streams back line by line while the body is still being sent (neither direction is buffered).
//
// What NGINX cannot do: once the answer has begun, its HTTP proxy forwards the rest of a request body only
// when the client sends more. A client that sends its whole body at once while the replica applies
// backpressure leaves the tail in NGINX, and the stream stalls (seen with curl and undici at 40,000-200,000
// lines). The CLI stays at most 1,024 lines ahead of its answers, which keeps that tail within the socket
// buffers; the README tells other clients to do the same.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ROOT, killOnExit, startLocalNginx } from '../../deploy/local-stack.js';
import { validationTexts } from '../helpers/data.js';
import { generatedLines, pingPongIds } from '../helpers/ndjson.js';
import { startTestService } from '../helpers/service.js';

const dir = mkdtempSync(join(tmpdir(), 'stream-nginx-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const server = await startTestService();
t.teardown(() => server.close());
const nginx = await startLocalNginx({ dir, upstreams: [new URL(server.url).host] });
t.teardown(() => nginx.stop());

t.test('50,000 lines (~4 MB, over the 2 MiB client_max_body_size of /api/) through NGINX with the CLI, answered in order', async (t) => {
  const input = join(dir, 'lines.jsonl');
  const output = join(dir, 'scored.jsonl');
  const file = createWriteStream(input);
  for await (const chunk of generatedLines(50_000)) if (!file.write(chunk)) await once(file, 'drain');
  file.end();
  await once(file, 'finish');
  t.ok(statSync(input).size > 2 * 1024 * 1024, `the body is ${(statSync(input).size / 1024 / 1024).toFixed(1)} MiB`);
  const child = spawn(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'score', input, '--url', nginx.url, '--out', output, '--quiet'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  killOnExit(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const [code] = await once(child, 'exit') as [number | null];
  t.equal(code, 0, stderr);
  const lines = readFileSync(output, 'utf8').split('\n').slice(0, -1).map((line) => JSON.parse(line));
  t.equal(lines.length, 50_000);
  t.ok(lines.every((line, i) => line.id === i && typeof line.label === 'string'), 'every line answered, in order');
});

t.test('through NGINX, each line is answered before the next one is sent', async (t) => {
  t.same(await pingPongIds(nginx.url, validationTexts()), [0, 1, 2, 3, 4]);
});
