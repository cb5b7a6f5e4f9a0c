import { cpSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs script without types
import { createAdapterPackage } from './new-adapter.mjs';

/**
 * An adapter package written outside this repository, step by step as CONTRIBUTING.md ("Third-party adapters")
 * tells its author: the template filled in as `pnpm new-adapter` fills it, moved out of the workspace, then its
 * package.json, tsconfig and vitest config made its own. Used by scripts/packages.test.ts.
 */
export interface ThirdPartyAdapterOptions {
  /** This repository (its templates/adapter and scripts/new-adapter.mjs). */
  root: string;
  /** A scratch directory; the package is written to `<scratch>/<id>`. */
  scratch: string;
  /** The package name, e.g. @acme/dcr-bridge-adapter-acme. */
  name: string;
  /** The adapter id (its settings prefix: ACME_ for acme). */
  id: string;
  display: string;
  /** What the package's devDependencies take from npm: @dcr-bridge/core, @dcr-bridge/conformance, vitest, typescript, @types/node. */
  devDependencies: Record<string, string>;
}

const VITEST_CONFIG = `import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 20_000, hookTimeout: 60_000, restoreMocks: true },
});
`;

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** Writes the package; returns its directory. */
export function writeThirdPartyAdapter(options: ThirdPartyAdapterOptions): string {
  const { root, scratch, name, id, display, devDependencies } = options;
  // Step 1: the template, filled in (`pnpm new-adapter <id>` in a clone), then moved out of the workspace.
  const clone = join(scratch, 'clone');
  mkdirSync(join(clone, 'packages'), { recursive: true });
  mkdirSync(join(clone, '.changeset'));
  cpSync(join(root, 'templates'), join(clone, 'templates'), { recursive: true });
  const generated = createAdapterPackage({ id, display, root: clone }) as string;
  const dir = join(scratch, id);
  renameSync(generated, dir);

  // Step 2: package.json: its own name; exports without the workspace's source condition; dependencies from npm.
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const exportsWithoutSource = Object.fromEntries(
    Object.entries<Record<string, string>>(pkg.exports).map(([subpath, conditions]) => [
      subpath,
      Object.fromEntries(Object.entries(conditions).filter(([condition]) => condition !== '@dcr-bridge/source')),
    ]),
  );
  const thirdParty = {
    ...pkg,
    name,
    version: '0.1.0',
    exports: exportsWithoutSource,
    publishConfig: { access: 'public' },
    scripts: { build: 'tsc -p tsconfig.build.json', typecheck: 'tsc -p tsconfig.json', test: 'vitest run' },
    peerDependencies: { '@dcr-bridge/core': '>=0.0.0 <1.0.0' },
    devDependencies: { ...pkg.devDependencies, ...devDependencies },
  };
  writeFileSync(join(dir, 'package.json'), json(thirdParty));

  // Step 3: a tsconfig and a vitest config of its own (the template's extend the repository's): the repository's
  // compiler options without its workspace-only source condition.
  const { customConditions: _workspaceOnly, ...compilerOptions } = (
    JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')) as { compilerOptions: Record<string, unknown> }
  ).compilerOptions;
  writeFileSync(
    join(dir, 'tsconfig.json'),
    json({ compilerOptions: { ...compilerOptions, noEmit: true }, include: ['src', 'test', '*.ts'] }),
  );
  writeFileSync(
    join(dir, 'tsconfig.build.json'),
    json({ extends: './tsconfig.json', compilerOptions: { noEmit: false, rootDir: 'src', outDir: 'dist' }, include: ['src'] }),
  );
  writeFileSync(join(dir, 'vitest.config.ts'), VITEST_CONFIG);
  return dir;
}
