import type { ViteUserConfig } from 'vitest/config';

/**
 * Test settings shared by every package: workspace packages resolve to their TypeScript sources
 * (the `@dcr-bridge/source` export condition), so tests never need a build step.
 */
export const sharedTestConfig: ViteUserConfig = {
  // Ours first, then Node's own. vitest hands these to Node for external packages too: `import` would
  // make CommonJS `require` load ESM builds, and `module` would pick bundler-only builds (the AWS SDK's dist-es).
  ssr: { resolve: { conditions: ['@dcr-bridge/source', 'node', 'development|production'] } },
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    restoreMocks: true,
  },
};
