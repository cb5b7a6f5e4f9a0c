import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KNOWN_ADAPTERS, loadAdapterModule } from '../src/index.js';

const packagesDir = fileURLToPath(new URL('../../../packages', import.meta.url));
const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };

/** The packages this package installs, resolved from here as from a project that installed it. */
const installedWithThisPackage: NonNullable<Parameters<typeof loadAdapterModule>[2]> = {
  importModule: (specifier) => import(specifier),
  installedIds: () =>
    readdirSync(new URL('../node_modules/@dcr-bridge', import.meta.url))
      .filter((name) => name.startsWith('adapter-'))
      .map((name) => name.slice('adapter-'.length))
      .sort(),
};

describe('@dcr-bridge/server-all', () => {
  it('depends on the server, every adapter of the repository and the PostgreSQL store', () => {
    const adapters = readdirSync(packagesDir)
      .filter((name) => name.startsWith('adapter-'))
      .map((name) => `@dcr-bridge/${name}`);
    expect(Object.keys(manifest.dependencies).sort()).toEqual([...adapters, '@dcr-bridge/server', '@dcr-bridge/store-postgres'].sort());
  });

  it('brings every adapter the server knows, each loadable by its id', async () => {
    expect(installedWithThisPackage.installedIds()).toEqual([...KNOWN_ADAPTERS].sort());
    for (const id of KNOWN_ADAPTERS) {
      const lookup = await loadAdapterModule(id, process.cwd(), installedWithThisPackage);
      expect('module' in lookup ? lookup.module.id : lookup.problem, id).toBe(id);
    }
  });

  it("has the dcr-bridge command: the server's, run from here", () => {
    const serverVersion = (JSON.parse(readFileSync(new URL('../../server/package.json', import.meta.url), 'utf8')) as { version: string })
      .version;
    const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
    const printed = execFileSync(process.execPath, ['--conditions=@dcr-bridge/source', '--import', 'tsx', bin, '--version'], {
      encoding: 'utf8',
    });
    expect(printed).toBe(`${serverVersion}\n`);
    // The bin is a committed file that runs the built src/bin.ts (dist/bin.js), so a fresh install links it.
    expect((JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string> }).bin).toEqual({
      'dcr-bridge': './bin/dcr-bridge.js',
    });
    expect(readFileSync(new URL('../bin/dcr-bridge.js', import.meta.url), 'utf8')).toContain("import '../dist/bin.js';");
  });
});
