import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isAdapterModule, type AdapterModule } from '@dcr-bridge/core';
import { nearestName } from './nearest.js';

const ADAPTER_PACKAGE = '@dcr-bridge/adapter-';

/**
 * The adapters published from this repository, by id: the `@dcr-bridge/adapter-*` packages the server's
 * package.json names (each an optional peer, rfc7591 a dependency), so that a new adapter package is known once
 * it is added there. Loading needs no table: `DCR_BRIDGE_ADAPTER=<id>` imports `@dcr-bridge/adapter-<id>`
 * (adapterPackageName). This list tells dev mode which settings belong to an adapter (settingPrefix): one of
 * them without DCR_BRIDGE_ADAPTER is a forgotten choice, installed or not; and it gives "did you mean" its names.
 * scripts/conventions.test.ts checks that the package.json names every packages/adapter-* directory.
 */
export const KNOWN_ADAPTERS: readonly string[] = adapterIdsOf(
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as PackageManifest,
);

interface PackageManifest {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** The ids of the `@dcr-bridge/adapter-*` packages a package.json depends on (or takes as peers), sorted. */
export function adapterIdsOf(manifest: PackageManifest): string[] {
  const names = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})];
  const ids = names.filter((name) => name.startsWith(ADAPTER_PACKAGE)).map((name) => name.slice(ADAPTER_PACKAGE.length));
  return [...new Set(ids)].sort();
}

/** The package of the adapter `id` by the repository's convention (folder = package): `@dcr-bridge/adapter-<id>`. */
export function adapterPackageName(id: string): string {
  return `${ADAPTER_PACKAGE}${id}`;
}

/** The prefix of the settings an adapter reads: `KEYCLOAK_` for keycloak, `ACME_ID_` for acme-id. */
export function settingPrefix(id: string): string {
  return `${id.toUpperCase().replace(/-/g, '_')}_`;
}

/** An adapter id as the template generates them: lowercase words joined by hyphens (`keycloak`, `acme-id`). */
const ADAPTER_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** `@scope/pkg`, `pkg/sub`, `./local.js`, `/abs/path.js`, `file:…`: always a module, never an id. */
function isPathOrScopedSpecifier(value: string): boolean {
  return /^(@[^/]+\/|\.{0,2}\/|file:)/.test(value) || value.includes('/');
}

/** The package a bare specifier names (`@acme/pkg/sub` → `@acme/pkg`); undefined for a path or URL. */
function packageOf(specifier: string): string | undefined {
  if (/^(\.{0,2}\/|file:)/.test(specifier)) return undefined;
  return specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
}

/**
 * Whether the import failed because the module itself is missing, rather than something it imports
 * (a dependency not installed, a syntax error): Node names the module it could not find.
 */
function isMissing(specifier: string, error: unknown): boolean {
  if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') return false;
  const missing = /Cannot find (?:package|module) '([^']+)'/.exec((error as Error).message)?.[1];
  if (missing === undefined) return false;
  if (specifier.startsWith('file:')) return missing === specifier || missing === fileURLToPath(specifier);
  return specifier === missing || specifier.startsWith(`${missing}/`);
}

/**
 * The ids of the `@dcr-bridge/adapter-*` packages this server can import: those in every `node_modules/@dcr-bridge`
 * folder on the way up from this file, where Node looks for them.
 */
export function installedAdapterIds(from: string = fileURLToPath(import.meta.url)): string[] {
  const ids = new Set<string>();
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    try {
      for (const name of readdirSync(join(dir, 'node_modules', '@dcr-bridge')))
        if (name.startsWith('adapter-')) ids.add(name.slice('adapter-'.length));
    } catch {
      // No such folder here: Node looks one level up, and so do we.
    }
    if (dirname(dir) === dir) break;
  }
  return [...ids].sort();
}

export type AdapterLookup = { module: AdapterModule } | { problem: string };
export type ImportModule = (specifier: string) => Promise<Record<string, unknown>>;

/** Where adapter packages come from: by default, the packages installed beside this server. */
export interface AdapterPackages {
  importModule: ImportModule;
  installedIds: () => string[];
}

const INSTALLED_HERE: AdapterPackages = { importModule: (specifier) => import(specifier), installedIds: () => installedAdapterIds() };

type Imported = { module: Record<string, unknown> } | { missing: true } | { failed: string };

async function tryImport(specifier: string, importModule: ImportModule): Promise<Imported> {
  try {
    return { module: await importModule(specifier) };
  } catch (error) {
    return isMissing(specifier, error) ? { missing: true } : { failed: (error as Error).message.split('\n')[0] as string };
  }
}

/**
 * The adapter module DCR_BRIDGE_ADAPTER names:
 * - an id (`keycloak`) → `@dcr-bridge/adapter-keycloak`, whose `dcrBridgeAdapter.id` must be that id; a bare name
 *   with a hyphen that is no such package is tried as a third-party package of that name (`acme-dcr-adapter`);
 * - any other module specifier → a third-party adapter package or file (a path is the operator's, relative to
 *   the working directory).
 * A package that is not installed is named with the command that installs it.
 */
export async function loadAdapterModule(
  choice: string,
  cwd: string = process.cwd(),
  packages: AdapterPackages = INSTALLED_HERE,
): Promise<AdapterLookup> {
  const { importModule } = packages;
  if (!isPathOrScopedSpecifier(choice) && !ADAPTER_ID.test(choice)) {
    return {
      problem: `DCR_BRIDGE_ADAPTER "${choice}" is neither an adapter id (lowercase, such as keycloak: the package @dcr-bridge/adapter-keycloak) nor the module specifier of an adapter package.`,
    };
  }
  if (!isPathOrScopedSpecifier(choice)) {
    const ours = adapterPackageName(choice);
    const imported = await tryImport(ours, importModule);
    if ('missing' in imported && choice.includes('-')) {
      const theirs = await tryImport(choice, importModule);
      if (!('missing' in theirs)) return adapterOf(choice, choice, theirs);
    }
    if ('missing' in imported) {
      const installed = packages.installedIds();
      const meant = nearestName(choice, new Set([...KNOWN_ADAPTERS, ...installed]));
      if (meant !== undefined) return { problem: `DCR_BRIDGE_ADAPTER is ${choice}, which no adapter is called. Did you mean ${meant}?` };
      return {
        problem: `DCR_BRIDGE_ADAPTER is ${choice}; the adapters installed are ${installed.length > 0 ? installed.join(', ') : 'none'}. The ${choice} adapter is not installed: npm install ${ours}`,
      };
    }
    const lookup = adapterOf(choice, ours, imported);
    if ('module' in lookup && lookup.module.id !== choice) {
      return {
        problem: `DCR_BRIDGE_ADAPTER "${choice}": ${ours} exports the adapter "${lookup.module.id}", not "${choice}": an adapter package's dcrBridgeAdapter.id is its name after @dcr-bridge/adapter-. Reinstall ${ours}, or set DCR_BRIDGE_ADAPTER to the package you meant.`,
      };
    }
    return lookup;
  }
  const specifier = /^\.{1,2}\/|^\//.test(choice) ? pathToFileURL(resolve(cwd, choice)).href : choice;
  return adapterOf(choice, specifier, await tryImport(specifier, importModule));
}

function adapterOf(choice: string, specifier: string, imported: Imported): AdapterLookup {
  if ('missing' in imported) {
    const name = packageOf(specifier);
    return {
      problem: `DCR_BRIDGE_ADAPTER "${choice}": ${specifier} could not be loaded (it is not installed)${name === undefined ? '.' : `: npm install ${name}`}`,
    };
  }
  if ('failed' in imported)
    return {
      problem: `DCR_BRIDGE_ADAPTER "${choice}": ${specifier} could not be loaded (it is there but failed to load: ${imported.failed}).`,
    };
  const module = imported.module.dcrBridgeAdapter;
  if (!isAdapterModule(module)) {
    return {
      problem: `DCR_BRIDGE_ADAPTER "${choice}": ${specifier} does not export dcrBridgeAdapter ({ id, settings, create }: settings declared with defineAdapterSettings of @dcr-bridge/core) as a dcr-bridge adapter package must.`,
    };
  }
  return { module };
}

/**
 * An optional peer of the server that a setting needs (the PostgreSQL store): undefined when it can be imported,
 * else what is wrong, with the command that installs it when it is missing.
 */
export async function optionalPackageProblem(
  name: string,
  neededFor: string,
  importModule: ImportModule = INSTALLED_HERE.importModule,
): Promise<string | undefined> {
  const imported = await tryImport(name, importModule);
  if ('missing' in imported) return `${neededFor}, but ${name} is not installed: npm install ${name}`;
  if ('failed' in imported) return `${neededFor}, but ${name} failed to load: ${imported.failed}`;
  return undefined;
}
