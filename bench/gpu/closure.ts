// The node_modules the device run needs, and nothing else: the service's production dependencies plus the
// named extras (autocannon, a devDependency), each followed through its own dependencies with Node's
// resolution (nested node_modules first, then the parents'). `stageClosure` copies them into a folder,
// leaving out source maps, type declarations and onnxruntime-node's binaries for other platforms, so the
// device folder stays within the 64 MiB that travels.
//
//   npx tsx bench/gpu/closure.ts --root . --extra autocannon [--stage DIR]
import { cpSync, existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';

interface PackageJson {
  name?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

function readPackage(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/** Where `name` resolves from package directory `from`, as Node looks it up; undefined when absent. */
export function resolvePackage(from: string, name: string, root: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return undefined;
    dir = dirname(dir);
    // Step out of a node_modules folder (and a scope folder) to the package that holds it.
    while (basename(dir) === 'node_modules' || basename(dir).startsWith('@')) {
      if (dir === root || dirname(dir) === dir) return undefined;
      dir = dirname(dir);
    }
  }
}

/**
 * Package directories (relative to `root`, sorted) reachable from the root package's production
 * dependencies and `extras`. Throws when a required dependency is not installed.
 */
export function dependencyClosure(root: string, extras: readonly string[] = []): string[] {
  const absoluteRoot = resolve(root);
  const manifest = readPackage(absoluteRoot);
  const seen = new Set<string>();
  const queue: Array<[string, string, boolean]> = [
    ...Object.keys(manifest.dependencies ?? {}).map((name): [string, string, boolean] => [absoluteRoot, name, false]),
    ...Object.keys(manifest.optionalDependencies ?? {}).map((name): [string, string, boolean] => [absoluteRoot, name, true]),
    ...extras.map((name): [string, string, boolean] => [absoluteRoot, name, false]),
  ];
  while (queue.length > 0) {
    const [from, name, optional] = queue.shift()!;
    const dir = resolvePackage(from, name, absoluteRoot);
    if (dir === undefined) {
      if (optional) continue;
      throw new Error(`${name} (needed by ${relative(absoluteRoot, from) || 'the project'}) is not installed: run npm install`);
    }
    if (seen.has(dir)) continue;
    seen.add(dir);
    const pkg = readPackage(dir);
    for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push([dir, dep, false]);
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) queue.push([dir, dep, true]);
    for (const dep of Object.keys(pkg.peerDependencies ?? {})) queue.push([dir, dep, true]);
  }
  return [...seen].map((dir) => relative(absoluteRoot, dir)).sort();
}

/** Files a staged package leaves out: nested packages (staged on their own), maps, declarations, other platforms. */
export function keepFile(packageDir: string, path: string): boolean {
  const inside = relative(packageDir, path);
  if (inside === '') return true;
  const parts = inside.split(sep);
  if (parts[0] === 'node_modules') return false;
  if (/\.(map|d\.ts|d\.mts|d\.cts|md|markdown)$/i.test(path) && statSync(path).isFile()) return false;
  if (basename(packageDir) === 'onnxruntime-node' && parts[0] === 'bin' && parts.length >= 3) {
    // bin/napi-v6/<platform>/<arch>: only linux/x64 travels (the device is x86-64 Linux).
    if (parts[2] !== 'linux') return false;
    if (parts.length >= 4 && parts[3] !== 'x64') return false;
  }
  return true;
}

/** Copies each package of the closure into `stage` (same relative paths). Returns the packages copied. */
export function stageClosure(root: string, stage: string, extras: readonly string[] = []): string[] {
  const absoluteRoot = resolve(root);
  const packages = dependencyClosure(absoluteRoot, extras);
  for (const pkg of packages) {
    const source = join(absoluteRoot, pkg);
    cpSync(source, join(stage, pkg), { recursive: true, dereference: true, filter: (path) => keepFile(source, path) });
  }
  return packages;
}

export function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      root: { type: 'string', default: '.' },
      extra: { type: 'string', multiple: true, default: [] },
      stage: { type: 'string' },
    },
  });
  const packages = values.stage !== undefined
    ? stageClosure(values.root, values.stage, values.extra)
    : dependencyClosure(values.root, values.extra);
  console.log(packages.join('\n'));
  return 0;
}

if (/^closure\.(ts|js|mjs)$/.test(basename(process.argv[1] ?? ''))) {
  process.exitCode = main(process.argv.slice(2));
}
