// `npm run deps:check` (scripts/deps-check.mjs): how far each dependency is behind the registry's latest major,
// which ones fail the check, and the exceptions it honours, decided on given registry answers. The registry
// itself is asked by CI's step (.ci/run), not by a test, so that a test's result does not change with what
// others publish; test/integration/deps-check-script.test.ts runs the script.
import t from 'tap';
import { HELD, assess, failures, floorMajor, linesBehind, parseVersion, report, type Manifest } from '../../scripts/deps-check.mjs';

const v = (text: string) => parseVersion(text)!;

t.test('breaking lines: majors, or minors while the major is 0', async (t) => {
  t.equal(linesBehind(v('10.3.0'), v('11.2.0')), 1);
  t.equal(linesBehind(v('7.6.6'), v('9.0.0')), 2);
  t.equal(linesBehind(v('11.5.3'), v('11.9.0')), 0, 'a newer minor is not behind');
  t.equal(linesBehind(v('0.16.1'), v('0.18.0')), 2, '0.16 → 0.18 is two breaking lines');
  t.equal(linesBehind(v('0.16.1'), v('0.16.9')), 0);
  t.equal(linesBehind(v('0.2.0'), v('1.0.0')), 1);
  t.equal(linesBehind(v('14.1.0'), v('13.2.1')), 0, 'ahead of latest (a release tagged next) is not behind');
  t.same(parseVersion('5.9'), { major: 5, minor: 9, patch: 0 }, 'a bare major.minor range');
  t.equal(parseVersion('file:../vendor/pkg'), undefined, 'a local folder has no version');
  t.equal(parseVersion('git+https://example.com/x.git#v1.2.3'), undefined);
  t.equal(parseVersion('owner/repo#v1.2.3'), undefined);
  t.equal(floorMajor('>=22.19.0'), 22);
  t.equal(floorMajor('^22.19 || >=24'), 22);
  t.equal(floorMajor(undefined), undefined);
});

t.test('a dependency more majors behind than allowed fails; one within the allowance is listed only', async (t) => {
  const manifest: Manifest = {
    dependencies: { fastify: '^5.12.8', ioredis: '^5.11.1', local: 'file:./local' },
    devDependencies: { autocannon: '^7.0.0' },
  };
  const latest = { fastify: { version: '5.13.0' }, ioredis: { version: '6.1.0', node: '>=20.0.0' }, autocannon: { version: '9.0.0' } };
  const rows = assess(manifest, { fastify: '5.12.8', ioredis: '5.11.1', autocannon: '7.1.0' }, latest);
  t.same(rows.map((row) => [row.name, row.status, row.behind]), [['fastify', 'current', 0], ['ioredis', 'behind', 1], ['autocannon', 'behind', 2]],
    'what is not a registry version (file:) is not checked');
  t.same(failures(rows, 1).map((row) => row.name), ['autocannon'], 'the CI allowance: one major behind passes');
  t.same(failures(rows, 0).map((row) => row.name), ['ioredis', 'autocannon'], 'the plain check: anything behind fails');
  const text = report(rows, 1);
  t.match(text, 'ioredis ^5.11.1 (installed 5.11.1): latest 6.1.0, 1 major behind (latest needs node >=20.0.0)');
  t.match(text, 'autocannon ^7.0.0 (installed 7.1.0): latest 9.0.0, 2 majors behind');
  t.notMatch(text, /^fastify/m, 'a current dependency is not listed');
  t.match(text, '1 of 3 dependencies on their latest major; 1 fails the check');
});

t.test('an installed version older than the declared range (a stale node_modules) is what counts', async (t) => {
  const rows = assess({ dependencies: { protobufjs: '^8.8.1' } }, { protobufjs: '7.6.6' }, { protobufjs: { version: '9.0.0' } });
  t.same(rows.map((row) => [row.status, row.behind]), [['behind', 2]]);
  const fresh = assess({ dependencies: { protobufjs: '^8.8.1' } }, {}, { protobufjs: { version: '9.0.0' } });
  t.same(fresh.map((row) => [row.status, row.behind, row.installed]), [['behind', 1, undefined]], 'no node_modules: the declared range');
});

t.test('@types/node is held to the Node.js line engines.node starts at, whatever npm\'s latest', async (t) => {
  t.ok(HELD['@types/node']?.reason, 'the exception says why');
  const latest = { '@types/node': { version: '26.6.11' } };
  const held = assess({ engines: { node: '>=22.19.0' }, devDependencies: { '@types/node': '^22.20.7' } }, { '@types/node': '22.20.7' }, latest);
  t.same(held.map((row) => [row.status, row.heldAt]), [['held', 22]]);
  t.same(failures(held, 0), [], 'four majors behind the registry and still passing');
  t.match(report(held, 0), '@types/node ^22.20.7 (installed 22.20.7): held at 22 (latest 26.6.11): follows the oldest Node.js line');
  const ahead = assess({ engines: { node: '>=20' }, devDependencies: { '@types/node': '^22.20.7' } }, { '@types/node': '22.20.7' }, latest);
  t.same(failures(ahead, 99).map((row) => [row.status, row.heldAt]), [['wrong hold', 20]], 'types of a newer Node than the oldest supported one fail at any allowance');
  t.match(report(ahead, 1), '@types/node ^22.20.7 (installed 22.20.7): should be held at 20');
  const behind = assess({ engines: { node: '>=24' }, devDependencies: { '@types/node': '^22.20.7' } }, { '@types/node': '22.20.7' }, latest);
  t.same(failures(behind, 99).map((row) => row.status), ['wrong hold'], 'so do types of an older one');
});

t.test('the node dev dependency (the Node.js npm scripts run on) is held to the same line', async (t) => {
  t.ok(HELD.node?.reason, 'the exception says why');
  const rows = assess({ engines: { node: '>=22' }, devDependencies: { node: '^22.23.3' } }, { node: '22.23.3' }, { node: { version: '26.10.0' } });
  t.same(rows.map((row) => [row.status, row.heldAt]), [['held', 22]]);
  const newer = assess({ engines: { node: '>=22' }, devDependencies: { node: '^24.1.0' } }, { node: '24.1.0' }, { node: { version: '26.10.0' } });
  t.same(failures(newer, 99).map((row) => [row.status, row.heldAt]), [['wrong hold', 22]], 'testing on a newer Node than the floor fails');
});
