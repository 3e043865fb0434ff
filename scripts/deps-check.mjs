// `npm run deps:check`: which of package.json's dependencies are behind the registry's latest major, Renovate's
// question without a bot. It asks the registry itself (`npm view`, so .npmrc's registry, CA and proxy apply) for
// each dependency's `latest`, rather than reading `npm outdated`: npm outdated's "latest" is the newest release
// whose `engines` admit the Node.js running npm, so a major that needs a newer Node is silently not shown.
//
//   npm run deps:check                       # lists what is behind; exits 1 if anything is
//   npm run deps:check -- --max-behind 1     # exits 1 only when something is two or more majors behind (CI)
//
// Exit 2: the registry could not be asked (unreachable, or a dependency is not on it); nothing was checked.
// For 0.x versions each minor is a breaking line (semver), so 0.16 → 0.17 counts as a major.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = new URL('..', import.meta.url);

/** The first major a version range admits (`^22.19.0`, `>=22`, `22.x || >=24` → 22); undefined if it names none. */
export function floorMajor(range) {
  const match = /(\d+)/.exec(range ?? '');
  return match ? Number(match[1]) : undefined;
}

/**
 * The dependencies held below the registry's latest major on purpose: the one place such an exception is
 * declared, each with its reason and the major it is held to (computed from package.json, so it moves with it).
 */
export const HELD = {
  '@types/node': {
    reason: 'follows the oldest Node.js line the project supports (engines.node), not npm\'s latest: types of a newer Node would let the code call APIs that line lacks',
    major: (manifest) => floorMajor(manifest.engines?.node),
  },
  node: {
    reason: 'the Node.js the project brings for its npm scripts and tests is the oldest line it supports (engines.node), so that the floor is what is tested',
    major: (manifest) => floorMajor(manifest.engines?.node),
  },
  typescript: {
    reason: 'the type-aware linter (typescript-eslint) runs on TypeScript\'s compiler API, which TypeScript 7, the native compiler, no longer ships (typescript-eslint#10940); 6 is the last line that has it',
    major: () => 6,
  },
};

/** A version's numbers (`22.20.7`, `5.9` → minor 9, patch 0); undefined for what is not one (file:, git URLs, owner/repo). */
export function parseVersion(text) {
  const match = /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text ?? '');
  if (!match || /^[a-z+]+:/i.test(text) || text.includes('/')) return undefined;
  return { major: Number(match[1]), minor: Number(match[2] ?? 0), patch: Number(match[3] ?? 0) };
}

/** How many breaking lines `latest` is ahead of `current`: majors, or minors while both are 0.x. */
export function linesBehind(current, latest) {
  if (latest.major !== current.major) return Math.max(0, latest.major - current.major);
  return latest.major === 0 ? Math.max(0, latest.minor - current.minor) : 0;
}

/**
 * Each dependency against the registry: its declared range, the installed version (when node_modules has it),
 * the registry's latest and how far behind the lower of the two is. A held dependency is measured against
 * the major it is held to instead ('held' when on it, 'wrong hold' when not).
 */
export function assess(manifest, installed, latest, held = HELD) {
  const declared = { ...manifest.dependencies, ...manifest.devDependencies };
  return Object.entries(declared).flatMap(([name, range]) => {
    const floor = parseVersion(range);
    if (!floor) return [];
    const have = parseVersion(installed[name]);
    const current = have && linesBehind(have, floor) > 0 ? have : floor;
    const row = { name, declared: range, installed: installed[name], latest: latest[name].version, latestNode: latest[name].node };
    const hold = held[name];
    if (hold) {
      const major = hold.major(manifest);
      return [{ ...row, status: current.major === major ? 'held' : 'wrong hold', behind: 0, heldAt: major, reason: hold.reason }];
    }
    const behind = linesBehind(current, parseVersion(latest[name].version));
    return [{ ...row, status: behind > 0 ? 'behind' : 'current', behind }];
  });
}

/** The rows that fail the check: any wrong hold, and whatever is more than `maxBehind` lines behind. */
export function failures(rows, maxBehind) {
  return rows.filter((row) => row.status === 'wrong hold' || row.behind > maxBehind);
}

/** One line per dependency that is not simply current, then the count of those that fail. */
export function report(rows, maxBehind) {
  const lines = [];
  const shown = rows.filter((row) => row.status !== 'current');
  for (const row of shown) {
    const what = `${row.name} ${row.declared}${row.installed ? ` (installed ${row.installed})` : ''}`;
    if (row.status === 'behind') lines.push(`${what}: latest ${row.latest}, ${row.behind} major${row.behind > 1 ? 's' : ''} behind${row.latestNode ? ` (latest needs node ${row.latestNode})` : ''}`);
    else if (row.status === 'held') lines.push(`${what}: held at ${row.heldAt} (latest ${row.latest}): ${row.reason}`);
    else lines.push(`${what}: should be held at ${row.heldAt ?? '(none found)'} (latest ${row.latest}): ${row.reason}`);
  }
  const failed = failures(rows, maxBehind);
  lines.push(`${rows.length - shown.length} of ${rows.length} dependencies on their latest major; ${failed.length} fail${failed.length === 1 ? 's' : ''} the check (more than ${maxBehind} behind, or not on the major it is held to)`);
  return lines.join('\n');
}

/** `npm view NAME version engines`: the registry's latest release and the Node.js it asks for. */
function viewLatest(name, children) {
  return new Promise((resolve, reject) => {
    // From the project's folder, so that its .npmrc (registry, CA) applies wherever the script is started from.
    const child = spawn('npm', ['view', name, 'version', 'engines', '--json'], { cwd: fileURLToPath(ROOT), stdio: ['ignore', 'pipe', 'ignore'] });
    children.add(child);
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    child.on('error', reject);
    child.on('close', () => {
      children.delete(child);
      let answer;
      try {
        answer = JSON.parse(out);
      } catch {
        reject(new Error(`npm view ${name} answered no JSON`));
        return;
      }
      if (answer?.error) reject(new Error(`${name}: ${answer.error.summary ?? answer.error.code}`));
      // One field present gives its bare value, several an object.
      else if (typeof answer === 'string') resolve({ version: answer });
      else resolve({ version: answer.version, node: answer.engines?.node });
    });
  });
}

/**
 * The registry's latest of each name, a few lookups at a time. The first that fails ends the others: when the
 * registry is unreachable each lookup would spend npm's retries (about a minute) only to fail the same way.
 */
async function lookUpAll(names, parallel = 8) {
  const latest = {};
  const queue = [...names];
  const children = new Set();
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) latest[name] = await viewLatest(name, children);
  };
  try {
    await Promise.all(Array.from({ length: parallel }, worker));
  } catch (error) {
    queue.length = 0;
    for (const child of children) child.kill();
    throw error;
  }
  return latest;
}

function installedVersions(names) {
  return Object.fromEntries(names.map((name) => {
    try {
      return [name, JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, ROOT), 'utf8')).version];
    } catch {
      return [name, undefined];
    }
  }));
}

async function main() {
  let maxBehind;
  try {
    const { values } = parseArgs({ options: { 'max-behind': { type: 'string', default: '0' } } });
    maxBehind = Number(values['max-behind']);
    if (!/^\d+$/.test(values['max-behind'])) throw new Error(`--max-behind takes a whole number of majors, not '${values['max-behind']}'`);
  } catch (error) {
    console.error(`deps:check: ${error.message}`);
    process.exit(2);
  }
  const manifest = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8'));
  const names = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
  let latest;
  try {
    latest = await lookUpAll(names);
  } catch (error) {
    console.error(`deps:check: could not ask the registry, so nothing was checked: ${error.message}`);
    process.exit(2);
  }
  const rows = assess(manifest, installedVersions(names), latest);
  console.log(report(rows, maxBehind));
  process.exit(failures(rows, maxBehind).length > 0 ? 1 : 0);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
