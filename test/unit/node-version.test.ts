// The Node the project supports (package.json engines) is the one the suite runs on, the one the project
// brings (the `node` dev dependency, which npm scripts and npx put first on PATH) and the one in the images.
import { readFileSync } from 'node:fs';
import t from 'tap';

const ROOT = new URL('../..', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { engines: { node: string }; devDependencies: Record<string, string> };
const major = (version: string) => Number(/\d+/.exec(version)?.[0]);
/** [major, minor] of a version or range such as 22.19.0, ^22.23.3 or >=22.19. */
const majorMinor = (version: string) => (/(\d+)(?:\.(\d+))?/.exec(version) ?? []).slice(1, 3).map((n) => Number(n ?? 0));
const atLeast = (version: string, floor: string) => {
  const [a, b] = majorMinor(version);
  const [c, d] = majorMinor(floor);
  return a! > c! || (a === c && b! >= d!);
};
const supported = major(manifest.engines.node);

t.test('engines names the oldest supported Node: an LTS line that has not reached its end of life', async (t) => {
  t.match(manifest.engines.node, /^>=\d+(\.\d+)?$/, 'engines: >=N or >=N.M (the release of line N that the dependencies need)');
  t.ok(supported >= 22, `Node ${supported} or newer (Node 20's support has ended)`);
  t.equal(supported % 2, 0, 'an even, long-term-support line');
});

t.test('the suite runs on a supported Node, the one the project brings', async (t) => {
  t.ok(atLeast(process.versions.node, manifest.engines.node), `this test runs on Node ${process.version} (${manifest.engines.node})`);
  t.ok(atLeast(manifest.devDependencies.node!, manifest.engines.node), `the node dev dependency (${manifest.devDependencies.node}) satisfies ${manifest.engines.node}`);
  t.equal(major(manifest.devDependencies.node!), supported, `the node dev dependency (${manifest.devDependencies.node}) is Node ${supported}, the oldest supported, so the floor is what is tested`);
});

t.test('the images run a supported Node', async (t) => {
  for (const file of ['Dockerfile', 'Dockerfile.gpu']) {
    const image = /^ARG NODE_IMAGE=node:(\d+)-/m.exec(readFileSync(`${ROOT}${file}`, 'utf8'));
    t.ok(image && Number(image[1]) >= supported, `${file}: node:${image?.[1]}`);
  }
});
