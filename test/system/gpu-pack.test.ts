// The GPU run stays ready to start: bench/gpu/pack.sh packs for real, and the pack plus the part of the
// checkout that travels with it (bench/gpu/travel.sh) leave 8 MiB of the device's 64 MiB to spare. A fixture,
// a result file or a dependency that outgrows the budget fails here, not on the day a GPU is had.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import t from 'tap';

const ROOT = new URL('../../', import.meta.url).pathname;
const MiB = 1024 * 1024;
/** The device takes 64 MiB; 8 of them stay spare. */
const BUDGET_BYTES = 56 * MiB;
const run = promisify(execFile);

async function travel(command: 'list' | 'bytes'): Promise<string> {
  return (await run('bash', ['bench/gpu/travel.sh', command], { cwd: ROOT, maxBuffer: 16 * MiB })).stdout;
}

t.test('what travels holds everything the device script reads from the checkout, and not the heavy rest', async (t) => {
  const files = new Set((await travel('list')).split('\n').filter(Boolean));
  const reads = [...readFileSync(`${ROOT}bench/gpu/run-on-device.sh`, 'utf8').matchAll(/\$REPO\/([\w./-]+)/g)].map((m) => m[1]!);
  // Carried beside the tree (.dev/gpu), written there (bench/work), or read by the CPU dry run only (roberta-tiny).
  const elsewhere = ['.dev/gpu', 'bench/work/', 'test/fixtures/roberta-tiny'];
  const needed = [...new Set(reads)].filter((path) => !elsewhere.some((prefix) => path.startsWith(prefix)));
  t.ok(needed.length >= 3, `the device script reads ${needed.join(', ')}`);
  for (const path of needed) t.ok(files.has(path) || [...files].some((file) => file.startsWith(`${path}/`)), `${path} travels`);
  t.ok(files.has('bench/gpu/run-on-device.sh'), 'the device script itself travels');
  for (const heavy of ['models/twitter-sentiment/best_model.pt', 'models/twitter-sentiment/model.onnx', 'data/tweeteval-sentiment/train.jsonl.gz', 'test/fixtures/slow-tiny/model.onnx']) {
    t.notOk(files.has(heavy), `${heavy} stays behind`);
  }
  const bytes = Number((await travel('bytes')).trim());
  const summed = [...files].reduce((sum, file) => sum + (statSync(`${ROOT}${file}`, { throwIfNoEntry: false })?.size ?? 0), 0);
  t.equal(bytes, summed, `bytes is the listed files' size (${(bytes / MiB).toFixed(1)} MiB)`);
});

t.test('bench/gpu/pack.sh packs, and the pack plus what travels leave 8 MiB of the 64 to spare', { timeout: 900_000 }, async (t) => {
  const env = { ...process.env };
  delete env.PACK_LIMIT_MIB;
  delete env.PACK_XZ_LEVEL;
  const { stderr } = await run('bash', ['bench/gpu/pack.sh'], { cwd: ROOT, env, maxBuffer: 16 * MiB });
  t.match(stderr, /\[pack\] \.dev\/gpu: [\d.]+ MiB; travelling tree [\d.]+ MiB; together [\d.]+ MiB \(limit 56\)/, 'the sizes are stated');
  const manifest = JSON.parse(readFileSync(`${ROOT}.dev/gpu/MANIFEST.json`, 'utf8')) as { pack_bytes: number; travelling_tree_bytes: number };
  const total = manifest.pack_bytes + manifest.travelling_tree_bytes;
  t.ok(total <= BUDGET_BYTES, `pack ${(manifest.pack_bytes / MiB).toFixed(1)} MiB + travelling tree ${(manifest.travelling_tree_bytes / MiB).toFixed(1)} MiB = ${(total / MiB).toFixed(1)} MiB ≤ 56 MiB`);
  for (const file of ['runtime.tar.xz', 'texts.jsonl', 'tokenizer/tokenizer.json']) t.ok(statSync(`${ROOT}.dev/gpu/${file}`).size > 0, `${file} packed`);
  // The NVIDIA driver's Vulkan ICD is linked against glvnd: with the loader alone, Dawn finds no adapter.
  const packed = readdirSync(`${ROOT}.dev/gpu`);
  for (const lib of ['libvulkan1', 'libglvnd0', 'libglx0', 'libegl1']) t.ok(packed.some((name) => name.startsWith(`${lib}_`) && name.endsWith('_amd64.deb')), `${lib} packed`);
  // What the built service reads at start beside dist/ (it exits without the playground page).
  const { stdout: members } = await run('tar', ['-tJf', `${ROOT}.dev/gpu/runtime.tar.xz`], { maxBuffer: 64 * MiB });
  const inRuntime = new Set(members.split('\n').map((member) => member.replace(/^\.\//, '')));
  for (const file of ['node', 'dist/server/main.js', 'server/playground/index.html', 'package.json', 'js/ort-loop.mjs', 'js/service-load.mjs']) {
    t.ok(inRuntime.has(file), `runtime.tar.xz holds ${file}`);
  }
});
