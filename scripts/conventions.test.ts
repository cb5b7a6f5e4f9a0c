import { cpSync, existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isAdapterModule } from '../packages/core/src/index.js';
// @ts-expect-error: a plain .mjs script without types
import { createAdapterPackage } from './new-adapter.mjs';

/**
 * The conventions of ARCHITECTURE.md, checked for every package so that a new adapter cannot drift:
 * folder = package name, one package.json shape, a README with the required sections, core as a peer
 * dependency, the AdapterModule export, and the conformance suite in the tests.
 */
const root = join(import.meta.dirname, '..');
const read = (file: string) => readFileSync(file, 'utf8');
const json = (file: string) => JSON.parse(read(file)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const packageDirs = [
  ...readdirSync(join(root, 'packages')).map((name) => join('packages', name)),
  ...readdirSync(join(root, 'apps')).map((name) => join('apps', name)),
].filter((dir) => existsSync(join(root, dir, 'package.json')));
const adapterDirs = packageDirs.filter((dir) => dir.startsWith(join('packages', 'adapter-')));

function packageShapeProblems(dir: string, pkg: Record<string, any>): string[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  const problems: string[] = [];
  const folder = dir.split(/[\\/]/).pop();
  if (pkg.name !== `@dcr-bridge/${folder}`) problems.push(`name ${pkg.name} should be @dcr-bridge/${folder}`);
  if (pkg.type !== 'module') problems.push('type should be module');
  if (pkg.license !== 'Apache-2.0') problems.push('license should be Apache-2.0');
  if (!pkg.engines?.node) problems.push('engines.node is missing');
  const entry = pkg.exports?.['.'];
  if (entry?.['@dcr-bridge/source'] !== './src/index.ts' || entry?.types !== './dist/index.d.ts' || entry?.default !== './dist/index.js') {
    problems.push('exports["."] should map @dcr-bridge/source, types and default');
  }
  if (JSON.stringify(pkg.files) !== '["dist"]') problems.push('files should be ["dist"]');
  const published = pkg.publishConfig?.exports?.['.'];
  if (pkg.publishConfig?.access !== 'public' || !published || '@dcr-bridge/source' in published) problems.push('publishConfig should be public and export dist only');
  for (const script of ['build', 'typecheck', 'lint', 'test']) if (!pkg.scripts?.[script]) problems.push(`script ${script} is missing`);
  if (dir.startsWith('packages') && pkg.sideEffects !== false) problems.push('sideEffects should be false');
  return problems;
}

describe.each(packageDirs)('%s', (dir) => {
  const pkg = json(join(root, dir, 'package.json'));

  it('keeps the package.json shape', () => {
    expect(packageShapeProblems(dir, pkg)).toEqual([]);
  });

  it('has a README and builds from src/index.ts', () => {
    expect(existsSync(join(root, dir, 'README.md'))).toBe(true);
    expect(existsSync(join(root, dir, 'src', 'index.ts'))).toBe(true);
  });

  it('takes core as a peer dependency, never a direct one', () => {
    if (pkg.name === '@dcr-bridge/core' || dir.startsWith('apps')) return;
    expect(pkg.dependencies?.['@dcr-bridge/core']).toBeUndefined();
    expect(pkg.peerDependencies?.['@dcr-bridge/core']).toBe('workspace:^');
  });
});

describe.each(adapterDirs)('%s adapter', (dir) => {
  const id = dir.split('adapter-').pop() as string;

  it('documents Install, Options, Capabilities, IdP setup, Limits and Testing', () => {
    const headings = read(join(root, dir, 'README.md')).split('\n').filter((line) => line.startsWith('## ')).map((line) => line.slice(3).trim().toLowerCase());
    for (const section of ['install', 'options', 'capabilities', 'idp setup', 'limits', 'testing']) {
      expect(headings.some((heading) => heading.startsWith(section)), `README section "${section}"`).toBe(true);
    }
  });

  it(`exports dcrBridgeAdapter with id "${id}" and a create…Adapter factory`, async () => {
    const module = (await import(pathToFileURL(join(root, dir, 'src', 'index.ts')).href)) as Record<string, unknown>;
    expect(isAdapterModule(module.dcrBridgeAdapter)).toBe(true);
    expect((module.dcrBridgeAdapter as { id: string }).id).toBe(id);
    expect(Object.keys(module).some((name) => /^create\w+Adapter$/.test(name) && typeof module[name] === 'function')).toBe(true);
    expect('default' in module).toBe(false);
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

  it('is registered in the server (known id and dependency)', () => {
    const registry = read(join(root, 'apps', 'server', 'src', 'registry.ts'));
    expect(registry).toContain(`${id}: '@dcr-bridge/adapter-${id}'`);
    expect(json(join(root, 'apps', 'server', 'package.json')).dependencies?.[`@dcr-bridge/adapter-${id}`]).toBe('workspace:^');
  });
});

describe('the adapter template', () => {
  it('generates a package that keeps the package.json shape', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'dcr-template-'));
    try {
      cpSync(join(root, 'templates'), join(scratch, 'templates'), { recursive: true });
      mkdirSync(join(scratch, 'packages'));
      mkdirSync(join(scratch, '.changeset'));
      const target = createAdapterPackage({ id: 'acme-id', display: 'Acme ID', root: scratch }) as string;
      const pkg = json(join(target, 'package.json'));
      expect(packageShapeProblems(join('packages', 'adapter-acme-id'), pkg)).toEqual([]);
      const source = read(join(target, 'src', 'adapter.ts')) + read(join(target, 'src', 'options.ts'));
      expect(source).toContain('createAcmeIdAdapter');
      expect(source).toContain("'ACME_ID_URL'");
      expect(source).not.toMatch(/__[A-Z]+__/);
      expect(existsSync(join(scratch, '.changeset', 'adapter-acme-id.md'))).toBe(true);
      expect(() => createAdapterPackage({ id: 'acme-id', display: 'Acme', root: scratch })).toThrow(/exists already/);
      expect(() => createAdapterPackage({ id: 'Bad Id', display: 'x', root: scratch })).toThrow(/lowercase/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
