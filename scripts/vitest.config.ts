import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../vitest.shared.js';

/** Repository-wide checks (`pnpm test:repo`): the conventions every package keeps. */
export default defineConfig({
  ...sharedTestConfig,
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: { ...sharedTestConfig.test, include: ['scripts/**/*.test.ts'] },
});
