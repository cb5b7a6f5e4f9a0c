import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../vitest.shared.js';

/** Repository-wide checks (`pnpm test:repo`): the conventions every package keeps. */
export default defineConfig({
  ...sharedTestConfig,
  root: fileURLToPath(new URL('..', import.meta.url)),
  // One file at a time: the container and packages tests each build the workspace and must not write the
  // same dist/ at once.
  test: { ...sharedTestConfig.test, include: ['scripts/**/*.test.ts'], fileParallelism: false },
});
