import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `@dcr-bridge/core` in `root`/node_modules, as a project that installs a third-party adapter package has it (the
 * package declares its settings with core's `defineAdapterSettings`): the built core, as published (tests run
 * after the build of the packages they depend on).
 */
export function installCore(root: string): void {
  const dir = join(root, 'node_modules', '@dcr-bridge', 'core');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@dcr-bridge/core', type: 'module', exports: './index.mjs' }));
  writeFileSync(
    join(dir, 'index.mjs'),
    `export * from ${JSON.stringify(new URL('../../../packages/core/dist/index.js', import.meta.url).href)};\n`,
  );
}
