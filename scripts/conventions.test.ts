import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isAdapterModule } from '../packages/core/src/index.js';
// @ts-expect-error: a plain .mjs script without types
import { createAdapterPackage } from './new-adapter.mjs';

/**
 * The conventions of CONTRIBUTING.md ("The rules of the house", "Adding an IdP"), checked for every package
 * so that a new adapter cannot drift: folder = package name, one package.json shape, a README with the
 * required sections, core as a peer dependency, the AdapterModule export, the conformance suite in the
 * tests, adapters written as primitives on core's lifecycle, and no import cycles.
 */
const root = join(import.meta.dirname, '..');
const read = (file: string) => readFileSync(file, 'utf8');
const json = (file: string) => JSON.parse(read(file)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const packageDirs = [
  ...readdirSync(join(root, 'packages')).map((name) => join('packages', name)),
  ...readdirSync(join(root, 'apps')).map((name) => join('apps', name)),
].filter((dir) => existsSync(join(root, dir, 'package.json')));
const adapterDirs = packageDirs.filter((dir) => dir.startsWith(join('packages', 'adapter-')));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function packageShapeProblems(dir: string, pkg: Record<string, any>): string[] {
  const problems: string[] = [];
  const folder = dir.split(/[\\/]/).pop();
  if (pkg.name !== `@dcr-bridge/${folder}`) problems.push(`name ${pkg.name} should be @dcr-bridge/${folder}`);
  if (pkg.type !== 'module') problems.push('type should be module');
  if (pkg.license !== 'Apache-2.0') problems.push('license should be Apache-2.0');
  if (!pkg.engines?.node) problems.push('engines.node is missing');
  if (!pkg.exports?.['.']) problems.push('exports["."] is missing');
  // Every entry point ("." and subpaths such as core's "./idp"): the source in the workspace, its build when published.
  for (const [subpath, entry] of Object.entries<Record<string, string>>(pkg.exports ?? {})) {
    const file = subpath === '.' ? 'index' : /^\.\/src\/(.+)\.ts$/.exec(entry['@dcr-bridge/source'] ?? '')?.[1];
    if (
      !file ||
      entry['@dcr-bridge/source'] !== `./src/${file}.ts` ||
      entry.types !== `./dist/${file}.d.ts` ||
      entry.default !== `./dist/${file}.js`
    ) {
      problems.push(
        `exports["${subpath}"] should map @dcr-bridge/source to ./src/<file>.ts (index for "."), types and default to ./dist/<file>.d.ts and ./dist/<file>.js`,
      );
    }
    const published = pkg.publishConfig?.exports?.[subpath];
    if (published?.types !== entry.types || published?.default !== entry.default || '@dcr-bridge/source' in published) {
      problems.push(`publishConfig.exports["${subpath}"] should be exports["${subpath}"] without @dcr-bridge/source`);
    }
  }
  if (JSON.stringify(Object.keys(pkg.publishConfig?.exports ?? {})) !== JSON.stringify(Object.keys(pkg.exports ?? {})))
    problems.push('publishConfig.exports should have the entry points of exports');
  // A command's bin is a committed file in bin/ that runs dist/ (a bin into dist/ fails to link before a build).
  const expectedFiles = pkg.bin === undefined ? ['dist'] : ['dist', 'bin'];
  if (JSON.stringify(pkg.files) !== JSON.stringify(expectedFiles)) problems.push(`files should be ${JSON.stringify(expectedFiles)}`);
  for (const target of Object.values((pkg.bin ?? {}) as Record<string, string>))
    if (!target.startsWith('./bin/')) problems.push(`bin ${target} should be a committed file in bin/ (it runs dist/)`);
  if (pkg.publishConfig?.access !== 'public') problems.push('publishConfig should be public');
  for (const script of ['build', 'typecheck', 'lint', 'test']) if (!pkg.scripts?.[script]) problems.push(`script ${script} is missing`);
  if (dir.startsWith('packages') && pkg.sideEffects !== false) problems.push('sideEffects should be false');
  return problems;
}

/**
 * The one adapter that still keeps cleanup budgets of its own: adapter-rfc7591 alone holds each client's RFC 7592
 * registration access token, so it deletes a registration it could not record, and re-reads a client whose
 * update got no answer, under `AbortSignal.timeout(cleanupReadTimeoutMs)` (src/adapter.ts). Remove the entry
 * once it no longer does.
 */
const OWN_CLEANUP_BUDGETS = new Set(['adapter-rfc7591']);

/**
 * The registration refusals core builds from an adapter's declared `registration` (auth methods, grant types,
 * scopes): an adapter that builds one of these messages itself is checking what it should declare.
 */
const REGISTRATION_CHECK = /token_endpoint_auth_method "\$\{[^}]*\}" is not|grant type\$\{|(scope|permission)\$\{[^}]*length/;

/**
 * Core owns the client lifecycle: an adapter hands its primitives to `defineDcrAdapter` with the server's
 * lifecycle settings (journal, vault, rotation overlap), declares what its IdP accepts in a registration instead of
 * checking it, and keeps no cleanup budgets of its own (core's cleanup retries under its own budget).
 */
function lifecycleProblems(dir: string): string[] {
  const problems: string[] = [];
  const folder = dir.split(/[\\/]/).pop() as string;
  if (!read(join(dir, 'src', 'adapter.ts')).includes('defineDcrAdapter('))
    problems.push('src/adapter.ts should hand its primitives to defineDcrAdapter(');
  if (!read(join(dir, 'src', 'module.ts')).includes('...(await context.openLifecycle())'))
    problems.push("src/module.ts should pass the server's lifecycle settings to the factory: ...(await context.openLifecycle())");
  if (!read(join(dir, 'src', 'adapter.ts')).includes('...lifecycleSettings(options)'))
    problems.push('src/adapter.ts should hand its lifecycle settings to defineDcrAdapter: { ...lifecycleSettings(options), logger }');
  const sources = readdirSync(join(dir, 'src'), { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.ts'));
  for (const name of sources) {
    if (read(join(dir, 'src', name)).includes('AbortSignal.timeout(') && !OWN_CLEANUP_BUDGETS.has(folder))
      problems.push(`src/${name} uses AbortSignal.timeout(: cleanup budgets are core's`);
    if (REGISTRATION_CHECK.test(read(join(dir, 'src', name))))
      problems.push(
        `src/${name} builds a registration refusal: declare what the IdP accepts (\`registration\`) and let core refuse the rest`,
      );
  }
  return problems;
}

/**
 * Setting names (`KEYCLOAK_URL`) belong to the server's configuration: an adapter names them in src/module.ts
 * only, where it declares them. Its factory, mapping, errors and doctor checks speak of options (`baseUrl`), so that
 * a programmatic user is not told about environment variables, and a renamed setting cannot leave a stale name
 * behind. The doctor still tells the operator which setting to change: its texts name an option through core's
 * `settingName(settingNames, 'realm')` (a local `setting('realm')`), and module.ts passes `settingNamesOf(settings)`.
 */
function settingNameProblems(dir: string, prefix: string): string[] {
  const name = new RegExp(`\\b${prefix}_[A-Z][A-Z0-9_]*`, 'g');
  return readdirSync(join(dir, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && file !== 'module.ts')
    .flatMap((file) => [...read(join(dir, 'src', file)).matchAll(name)].map(([found]) => `src/${file} names the setting ${found}`));
}

/** Options the doctor's texts name (`setting('realm')`, `settingOf(source, 'realm')`) that the adapter does not declare. */
function undeclaredOptionProblems(dir: string, declared: readonly string[]): string[] {
  const file = join(dir, 'src', 'diagnostics.ts');
  if (!existsSync(file)) return [];
  return [...read(file).matchAll(/\bsetting(?:Of)?\((?:\w+, )?'(\w+)'\)/g)]
    .map(([, option]) => option as string)
    .filter((option) => !declared.includes(option))
    .map((option) => `src/diagnostics.ts names the option ${option}, which src/module.ts does not declare`);
}

describe.each(packageDirs)('%s', (dir) => {
  const pkg = json(join(root, dir, 'package.json'));

  it('keeps the package.json shape', () => {
    expect(packageShapeProblems(dir, pkg)).toEqual([]);
  });

  it('has a README and builds every entry point from src', () => {
    expect(existsSync(join(root, dir, 'README.md'))).toBe(true);
    for (const entry of Object.values<Record<string, string>>(pkg.exports ?? {}))
      expect(existsSync(join(root, dir, entry['@dcr-bridge/source'] ?? 'src/index.ts')), entry['@dcr-bridge/source']).toBe(true);
  });

  it('packs its LICENSE and source maps that carry their sources, not maps to files it does not ship', () => {
    // The built package as npm would pack it (pnpm check builds before this test runs).
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: join(root, dir),
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ) as Array<{ files: Array<{ path: string }> }>;
    const files = packed[0]?.files.map((file) => file.path) ?? [];
    expect(files).toContain('LICENSE');
    expect(read(join(root, dir, 'LICENSE'))).toBe(read(join(root, 'LICENSE')));
    const maps = files.filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    expect(maps.filter((file) => file.endsWith('.d.ts.map'))).toEqual([]);
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(read(join(root, dir, map))) as { sources: string[]; sourcesContent?: unknown[] };
      expect(sourcesContent?.length, map).toBe(sources.length);
      expect(
        sourcesContent?.every((content) => typeof content === 'string'),
        map,
      ).toBe(true);
    }
  });

  it('depends on every package its published types import, and on the types of those without their own', () => {
    const typings = readdirSync(join(root, dir, 'dist'), { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.d.ts'));
    const imported = new Set<string>();
    for (const name of typings) {
      for (const [, specifier] of read(join(root, dir, 'dist', name)).matchAll(/(?:from |import\()'([^'.][^']*)'/g)) {
        if (specifier === undefined || specifier.startsWith('node:')) continue;
        imported.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] as string));
      }
    }
    const declared = { ...pkg.dependencies, ...pkg.peerDependencies } as Record<string, string>;
    const problems: string[] = [];
    for (const name of imported) {
      if (name === pkg.name) continue;
      const typesPackage = `@types/${name.replace(/^@/, '').replace('/', '__')}`;
      // A module that exists only as types (aws-lambda: the shapes of Lambda's events) is its @types package.
      if (!(name in declared) && typesPackage in declared) continue;
      if (!(name in declared)) {
        problems.push(`${name} is imported by the published types but is no dependency or peer`);
        continue;
      }
      if (name.startsWith('@dcr-bridge/')) continue;
      // pnpm links each package's own dependencies into its node_modules.
      const manifest = JSON.parse(read(join(root, dir, 'node_modules', name, 'package.json'))) as Record<string, unknown>;
      const ownTypes =
        manifest.types !== undefined || manifest.typings !== undefined || JSON.stringify(manifest.exports ?? {}).includes('"types"');
      if (!ownTypes && !(typesPackage in declared)) problems.push(`${name} has no types of its own: ${typesPackage} must be a dependency`);
    }
    expect(problems).toEqual([]);
  });

  it('takes core as a peer dependency, never a direct one', () => {
    if (pkg.name === '@dcr-bridge/core' || dir.startsWith('apps')) return;
    expect(pkg.dependencies?.['@dcr-bridge/core']).toBeUndefined();
    // Any 0.x core: a core minor must not turn into a major of every adapter (see release.test.ts).
    expect(pkg.peerDependencies?.['@dcr-bridge/core']).toBe('workspace:>=0.0.0 <1.0.0');
  });
});

describe.each(adapterDirs)('%s adapter', (dir) => {
  const id = dir.split('adapter-').pop() as string;

  it('documents Install, Options, Capabilities, IdP setup, Limits and Testing', () => {
    const headings = read(join(root, dir, 'README.md'))
      .split('\n')
      .filter((line) => line.startsWith('## '))
      .map((line) => line.slice(3).trim().toLowerCase());
    for (const section of ['install', 'options', 'capabilities', 'idp setup', 'limits', 'testing']) {
      expect(
        headings.some((heading) => heading.startsWith(section)),
        `README section "${section}"`,
      ).toBe(true);
    }
  });

  it(`exports dcrBridgeAdapter with id "${id}" and a create…Adapter factory`, async () => {
    const module = (await import(pathToFileURL(join(root, dir, 'src', 'index.ts')).href)) as Record<string, unknown>;
    expect(isAdapterModule(module.dcrBridgeAdapter)).toBe(true);
    expect((module.dcrBridgeAdapter as { id: string }).id).toBe(id);
    expect(Object.keys(module).some((name) => /^create\w+Adapter$/.test(name) && typeof module[name] === 'function')).toBe(true);
    expect('default' in module).toBe(false);
  });

  it("hands primitives to core's lifecycle with the server's journal, and keeps no cleanup budgets", () => {
    expect(lifecycleProblems(join(root, dir))).toEqual([]);
  });

  it('names its settings in src/module.ts only, and its doctor texts name declared options', async () => {
    expect(settingNameProblems(join(root, dir), id.toUpperCase().replace(/-/g, '_'))).toEqual([]);
    const module = (await import(pathToFileURL(join(root, dir, 'src', 'module.ts')).href)) as {
      dcrBridgeAdapter: { settings: { entries: Array<{ option: string }> } };
    };
    const declared = module.dcrBridgeAdapter.settings.entries.map(({ option }) => option);
    expect(undeclaredOptionProblems(join(root, dir), declared)).toEqual([]);
  });

  it('runs the conformance suite in its tests', () => {
    const tests = readdirSync(join(root, dir, 'test')).filter((name) => name.endsWith('.ts'));
    expect(tests.some((name) => read(join(root, dir, 'test', name)).includes('runConformanceSuite('))).toBe(true);
  });

  it('has a changeset or a released version', () => {
    const version = json(join(root, dir, 'package.json')).version as string;
    const changesets = readdirSync(join(root, '.changeset')).filter((name) => name.endsWith('.md') && name !== 'README.md');
    const mentioned = changesets.some((name) => read(join(root, '.changeset', name)).includes(`"@dcr-bridge/adapter-${id}"`));
    expect(mentioned || version !== '0.0.0').toBe(true);
  });

  it('is known to the server (its settings prefix), an optional peer of it, and in the all-in-one package', async () => {
    const { KNOWN_ADAPTERS } = await import('../apps/server/src/registry.js');
    expect(KNOWN_ADAPTERS).toContain(id);
    const name = `@dcr-bridge/adapter-${id}`;
    const server = json(join(root, 'apps', 'server', 'package.json'));
    // The server's tests load every adapter; rfc7591 is the dev mode's, so it comes with the server.
    if (id === 'rfc7591') expect(server.dependencies?.[name]).toBe('workspace:^');
    else {
      expect(server.peerDependencies?.[name]).toBe('workspace:>=0.0.0 <1.0.0');
      expect(server.peerDependenciesMeta?.[name]).toEqual({ optional: true });
      expect(server.devDependencies?.[name]).toBe('workspace:^');
    }
    expect(json(join(root, 'apps', 'server-all', 'package.json')).dependencies?.[name]).toBe('workspace:^');
  });
});

/** The README table's row for each operation of a call budget, by its first cell. */
const CALL_ROWS: Record<string, RegExp> = {
  create: /^create\b/,
  rotate: /new-secret/,
  update: /update_application/,
  registration: /add_registration|add \/ remove_registration/,
  delete: /^delete$/,
};

/** The leading count of a cell ("2: GET …, PUT …" → 2); `same` repeats the remembered one. */
function leadingCount(cell: string, remembered?: number): number | undefined {
  const text = cell.replace(/[`*]/g, '').trim();
  if (text.startsWith('same') && remembered !== undefined) return remembered;
  const leading = /^(\d+)\b/.exec(text);
  return leading ? Number(leading[1]) : undefined;
}

/** Every row of a README's tables with "now, remembered" and "now, cold" columns, as [label, remembered, cold]. */
function callTableRows(readme: string): Array<[string, number | undefined, number | undefined]> {
  const rows: Array<[string, number | undefined, number | undefined]> = [];
  let columns: string[] | undefined;
  for (const line of readme.split('\n')) {
    if (!line.startsWith('|')) {
      columns = undefined;
      continue;
    }
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
    if (!columns) {
      columns = cells;
      continue;
    }
    const [remembered, cold] = ['now, remembered', 'now, cold'].map((name) => columns!.indexOf(name));
    if (remembered === -1 || cold === -1 || /^-+$/.test(cells[0]?.replace(/\s/g, '') ?? '')) continue;
    const label = (cells[0] ?? '')
      .replace(/[`*]/g, '')
      .replace(/^(event hook|events?) /, '')
      .trim();
    const rememberedCount = leadingCount(cells[remembered] ?? '');
    rows.push([label, rememberedCount, leadingCount(cells[cold] ?? '', rememberedCount)]);
  }
  return rows;
}

/** Where an adapter's README table of IdP calls and its declared call budget (test/call-budget.ts) disagree. */
async function callBudgetProblems(dir: string): Promise<string[]> {
  const { callBudget } = (await import(pathToFileURL(join(dir, 'test', 'call-budget.ts')).href)) as {
    callBudget: Record<string, { remembered: number; cold: number } | undefined>;
  };
  const rows = callTableRows(read(join(dir, 'README.md')));
  return Object.entries(callBudget).flatMap(([operation, declared]) => {
    if (!declared) return [];
    const candidates = rows.filter(([label]) => CALL_ROWS[operation]?.test(label));
    const agreeing = candidates.some(([, remembered, cold]) => remembered === declared.remembered && cold === declared.cold);
    if (agreeing) return [];
    const said = candidates.map(([label, remembered, cold]) => `"${label}" ${remembered} / ${cold}`).join(', ') || 'nothing';
    return [
      `${operation}: test/call-budget.ts declares ${declared.remembered} remembered, ${declared.cold} cold; the README's rows say ${said}`,
    ];
  });
}

describe("every adapter's IdP calls per Konnect operation", () => {
  it.each(adapterDirs)(
    '%s: the README table says what test/call-budget.ts declares (the conformance `calls` group holds the adapter to it)',
    async (dir) => expect(await callBudgetProblems(join(root, dir))).toEqual([]),
  );
});

describe('the adapter template', () => {
  it('generates a package that keeps the package.json shape and the adapter conventions', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'dcr-template-'));
    try {
      cpSync(join(root, 'templates'), join(scratch, 'templates'), { recursive: true });
      // The generated package's tsconfig extends the repository's (its call budget is loaded below).
      cpSync(join(root, 'tsconfig.base.json'), join(scratch, 'tsconfig.base.json'));
      mkdirSync(join(scratch, 'packages'));
      mkdirSync(join(scratch, '.changeset'));
      const target = createAdapterPackage({ id: 'acme-id', display: 'Acme ID', root: scratch }) as string;
      const pkg = json(join(target, 'package.json'));
      expect(packageShapeProblems(join('packages', 'adapter-acme-id'), pkg)).toEqual([]);
      const files = readdirSync(target, { recursive: true, encoding: 'utf8' }).filter((name) => statSync(join(target, name)).isFile());
      expect(files).toContain(join('test', 'fake-acme-id.ts'));
      for (const name of files) expect(name + read(join(target, name)), name).not.toMatch(/__[A-Z]+__/);
      const source =
        read(join(target, 'src', 'adapter.ts')) + read(join(target, 'src', 'module.ts')) + read(join(target, 'src', 'identity.ts'));
      expect(source).toContain('createAcmeIdAdapter');
      expect(source).toContain("SETTINGS_PREFIX = 'ACME_ID'");
      expect(lifecycleProblems(target)).toEqual([]);
      expect(settingNameProblems(target, 'ACME_ID')).toEqual([]);
      expect(read(join(target, 'src', 'module.ts'))).toContain('defineAdapterSettings(');
      expect(read(join(target, 'README.md'))).toContain('| `ACME_ID_URL` | `baseUrl` | URL | required |');
      expect(read(join(target, 'test', 'conformance.test.ts'))).toContain('runConformanceSuite(');
      // Its tests are the fake, the declared call budget and the shared suite: nothing of core's re-tested.
      expect(readdirSync(join(target, 'test')).sort()).toEqual(['call-budget.ts', 'conformance.test.ts', 'fake-acme-id.ts']);
      expect(await callBudgetProblems(target)).toEqual([]);
      expect(existsSync(join(scratch, '.changeset', 'adapter-acme-id.md'))).toBe(true);
      expect(() => createAdapterPackage({ id: 'acme-id', display: 'Acme', root: scratch })).toThrow(/exists already/);
      expect(() => createAdapterPackage({ id: 'Bad Id', display: 'x', root: scratch })).toThrow(/lowercase/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});

describe('what every install carries', () => {
  it('no type packages among any published package’s dependencies: development or optional peer only', () => {
    const manifests = ['apps/server', 'apps/server-all', ...readdirSync(join(root, 'packages')).map((name) => `packages/${name}`)];
    const typesAtRuntime = manifests.flatMap((dir) => {
      const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as {
        private?: boolean;
        dependencies?: Record<string, string>;
      };
      if (manifest.private) return [];
      return Object.keys(manifest.dependencies ?? {})
        .filter((name) => name.startsWith('@types/'))
        .map((name) => `${dir}: ${name}`);
    });
    expect(typesAtRuntime).toEqual([]);
  });
});

describe('the import graph', () => {
  it('has no import cycles in any package or app source, type-only imports included (madge)', () => {
    const sources = [...packageDirs.map((dir) => join(dir, 'src'))].filter((dir) => existsSync(join(root, dir)));
    const madge = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules', 'madge', 'bin', 'cli.js'),
        '--circular',
        '--json',
        '--no-spinner',
        '--extensions',
        'ts',
        '--ts-config',
        'tsconfig.base.json',
        ...sources,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    const cycles = JSON.parse(madge.stdout) as string[][];
    expect(cycles.map((cycle) => cycle.join(' > '))).toEqual([]);
  }, 60_000);
});
