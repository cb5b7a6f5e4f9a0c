import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adapterPackageName,
  installedAdapterIds,
  adapterIdsOf,
  KNOWN_ADAPTERS,
  loadAdapterModule,
  optionalPackageProblem,
  settingPrefix,
  type AdapterPackages,
} from '../src/registry.js';
import { installCore } from './install-core.js';

const fixture = fileURLToPath(new URL('./fixtures/third-party-adapter.mjs', import.meta.url));
const packagesDir = fileURLToPath(new URL('../../../packages', import.meta.url));

/** A package in `root`/node_modules whose entry is a copy of `entry`. */
function installPackage(root: string, name: string, entry: string): void {
  const dir = join(root, 'node_modules', ...name.split('/'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', exports: './index.mjs' }));
  copyFileSync(entry, join(dir, 'index.mjs'));
}

/**
 * Another installation of the server, as an operator's project would hold it: Node resolves packages from a
 * module in that folder, where only what the test installs is there.
 */
let project: string;
let elsewhere: AdapterPackages;
beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'dcr-registry-'));
  writeFileSync(join(project, 'loader.mjs'), 'export const load = (specifier) => import(specifier);\n');
  installCore(project);
  // Installed under the keycloak adapter's name, but its dcrBridgeAdapter.id is "acme".
  installPackage(project, '@dcr-bridge/adapter-keycloak', fixture);
  installPackage(project, 'acme-dcr-adapter', fixture);
  const { load } = (await import(pathToFileURL(join(project, 'loader.mjs')).href)) as { load: AdapterPackages['importModule'] };
  elsewhere = { importModule: load, installedIds: () => installedAdapterIds(join(project, 'loader.mjs')) };
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('adapter packages by convention', () => {
  it('loads the package @dcr-bridge/adapter-<id> for an id, with that id', async () => {
    const lookup = await loadAdapterModule('keycloak');
    expect('module' in lookup && lookup.module.id).toBe('keycloak');
    expect(adapterPackageName('pingfederate')).toBe('@dcr-bridge/adapter-pingfederate');
  });

  it('names the command that installs an adapter that is not there, and the adapters that are', async () => {
    expect(await loadAdapterModule('pingone', project, elsewhere)).toEqual({
      problem:
        'DCR_BRIDGE_ADAPTER is pingone; the adapters installed are keycloak. The pingone adapter is not installed: npm install @dcr-bridge/adapter-pingone',
    });
    // A misspelt id: the nearest adapter, before any install advice for a package that does not exist.
    expect(await loadAdapterModule('keycloack')).toEqual({
      problem: 'DCR_BRIDGE_ADAPTER is keycloack, which no adapter is called. Did you mean keycloak?',
    });
  });

  it('refuses a package whose adapter id is not the one its name promises', async () => {
    const lookup = await loadAdapterModule('keycloak', project, elsewhere);
    expect(lookup).toEqual({
      problem: expect.stringMatching(
        /^DCR_BRIDGE_ADAPTER "keycloak": @dcr-bridge\/adapter-keycloak exports the adapter "acme", not "keycloak"/,
      ),
    });
  });

  it('takes a hyphenated name that is no adapter of ours as a third-party package of that name', async () => {
    const lookup = await loadAdapterModule('acme-dcr-adapter', project, elsewhere);
    expect('module' in lookup && lookup.module.id).toBe('acme');
    expect(await loadAdapterModule('zitadel-adapter', project, elsewhere)).toEqual({
      problem: expect.stringMatching(/The zitadel-adapter adapter is not installed: npm install @dcr-bridge\/adapter-zitadel-adapter$/),
    });
  });

  it('loads a third-party adapter by path, and names the package to install for a missing scoped one', async () => {
    const lookup = await loadAdapterModule('./fixtures/third-party-adapter.mjs', fileURLToPath(new URL('.', import.meta.url)));
    expect('module' in lookup && lookup.module.id).toBe('acme');
    expect(await loadAdapterModule('@acme/dcr-bridge-adapter/server', project, elsewhere)).toEqual({
      problem:
        'DCR_BRIDGE_ADAPTER "@acme/dcr-bridge-adapter/server": @acme/dcr-bridge-adapter/server could not be loaded (it is not installed): npm install @acme/dcr-bridge-adapter',
    });
  });

  it('refuses a value that is neither an id nor a module specifier', async () => {
    expect(await loadAdapterModule('Keycloak')).toEqual({
      problem: expect.stringMatching(/^DCR_BRIDGE_ADAPTER "Keycloak" is neither an adapter id/),
    });
  });
});

describe('the adapters published from this repository', () => {
  it('are every packages/adapter-* package, each with the settings prefix of its id', () => {
    const folders = readdirSync(packagesDir)
      .filter((name) => name.startsWith('adapter-'))
      .map((name) => name.slice('adapter-'.length));
    expect([...KNOWN_ADAPTERS].sort()).toEqual(folders.sort());
    expect(settingPrefix('rfc7591')).toBe('RFC7591_');
    expect(settingPrefix('acme-id')).toBe('ACME_ID_');
  });

  it("are read from the server's package.json: its adapter dependencies and optional peers, nothing else", () => {
    expect(
      adapterIdsOf({
        dependencies: { '@dcr-bridge/adapter-rfc7591': 'workspace:^', '@dcr-bridge/core': 'workspace:^', express: '^5' },
        peerDependencies: {
          '@dcr-bridge/adapter-okta': '>=0.0.0',
          '@dcr-bridge/store-postgres': '>=0.0.0',
          '@dcr-bridge/adapter-rfc7591': '*',
        },
      }),
    ).toEqual(['okta', 'rfc7591']);
  });
});

describe('optional packages', () => {
  it('says which package to install for a setting that needs it, and nothing when it is there', async () => {
    expect(await optionalPackageProblem('@dcr-bridge/store-postgres', 'DCR_BRIDGE_STORE is a PostgreSQL URL', elsewhere.importModule)).toBe(
      'DCR_BRIDGE_STORE is a PostgreSQL URL, but @dcr-bridge/store-postgres is not installed: npm install @dcr-bridge/store-postgres',
    );
    expect(await optionalPackageProblem('@dcr-bridge/store-postgres', 'DCR_BRIDGE_STORE is a PostgreSQL URL')).toBeUndefined();
  });
});
