import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The publishable packages as npm users get them: packed by pnpm (which rewrites `workspace:` ranges and takes
 * `publishConfig.exports`), read back from the tarball, and installed with npm in a directory outside the
 * workspace. Used by scripts/packages.test.ts.
 */
export const run = promisify(execFile);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Manifest = Record<string, any>;

export interface PackedPackage {
  name: string;
  /** The package's folder, relative to the repository root (packages/core). */
  dir: string;
  tarball: string;
  /** The package.json inside the tarball, as npm will read it. */
  manifest: Manifest;
}

/** packages/* and apps/*: every folder with a package.json that is not private. */
export function publishableDirs(root: string): string[] {
  return ['packages', 'apps']
    .flatMap((parent) => readdirSync(join(root, parent)).map((name) => join(parent, name)))
    .filter(
      (dir) =>
        existsSync(join(root, dir, 'package.json')) && JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).private !== true,
    )
    .sort();
}

/** The package.json of a tarball, read with tar. */
export async function tarballManifest(tarball: string): Promise<Manifest> {
  const { stdout } = await run('tar', ['-xzOf', tarball, 'package/package.json'], { maxBuffer: 16 * 2 ** 20 });
  return JSON.parse(stdout) as Manifest;
}

/** Runs `work` on every item, `limit` at a time (the machine has 2 cores). */
export async function eachLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** `pnpm pack` in every publishable package, into `destination`. */
export async function packAll(root: string, destination: string): Promise<Map<string, PackedPackage>> {
  const packed = await eachLimited(publishableDirs(root), 2, async (dir) => {
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', destination, '--json'], {
      cwd: join(root, dir),
      maxBuffer: 16 * 2 ** 20,
    });
    const { name, filename } = JSON.parse(stdout) as { name: string; filename: string };
    return { name, dir, tarball: filename, manifest: await tarballManifest(filename) };
  });
  return new Map(packed.map((pkg) => [pkg.name, pkg]));
}

/**
 * The tarballs an npm user gets with `names`: those packages and every @dcr-bridge package they need
 * (dependencies and required peers, transitively; optional peers stay out, as npm leaves them out). Passing
 * them all to `npm install` keeps npm from asking the registry for an @dcr-bridge package.
 */
export function withOwnDependencies(names: readonly string[], packed: Map<string, PackedPackage>): string[] {
  const wanted = new Set<string>();
  const visit = (name: string) => {
    if (wanted.has(name)) return;
    const pkg = packed.get(name);
    if (!pkg) throw new Error(`${name} is no publishable package of this repository`);
    wanted.add(name);
    const { dependencies = {}, peerDependencies = {}, peerDependenciesMeta = {} } = pkg.manifest;
    const needed = [
      ...Object.keys(dependencies),
      ...Object.keys(peerDependencies).filter((peer) => peerDependenciesMeta[peer]?.optional !== true),
    ];
    needed.filter((dependency) => dependency.startsWith('@dcr-bridge/')).forEach(visit);
  };
  names.forEach(visit);
  return [...wanted].sort();
}

/**
 * The environment for npm and node outside the workspace: without what pnpm puts into a script's environment
 * (npm_config_*, npm_package_*, npm_lifecycle_*), which npm would read as its own settings.
 */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || /^(npm_|pnpm_|PNPM_)/i.test(name)) continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * `npm install <specs…>` in `dir` (created, with a package.json of its own), as a user would install
 * from the registry. Returns what npm printed, for a failure's message.
 */
export async function npmInstall(dir: string, specs: readonly string[]): Promise<string> {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'package.json')))
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'outside-the-workspace', private: true }, null, 2)}\n`);
  const { stdout, stderr } = await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs], {
    cwd: dir,
    env: cleanEnv(),
    maxBuffer: 64 * 2 ** 20,
  });
  return stdout + stderr;
}

export interface InstalledPackage {
  name: string;
  /** Where npm put it, relative to the install directory (node_modules/a/node_modules/b). */
  path: string;
  /** Where npm got it: a registry URL, or `file:…` for a local tarball. */
  resolved?: string;
}

/** Every package npm installed in `dir`, nested ones included, from its package-lock.json. */
export function installedPackages(dir: string): InstalledPackage[] {
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { resolved?: string; link?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path]) => path.includes('node_modules/'))
    .map(([path, entry]) => ({
      name: path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length),
      path,
      resolved: entry.resolved,
    }));
}

/** Where the installed packages named in `names` are; a name ending in `*` is a prefix (`@aws-sdk/*`). */
export function installedAmong(installed: readonly InstalledPackage[], names: readonly string[]): string[] {
  const matches = (name: string) =>
    names.some((pattern) => (pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern));
  return [...new Set(installed.filter((pkg) => matches(pkg.name)).map((pkg) => pkg.path))].sort();
}
