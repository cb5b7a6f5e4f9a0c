import { defineProject } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.js';

export default defineProject({
  ...sharedTestConfig,
  // One PostgreSQL server for the run (embedded, or DCR_BRIDGE_TEST_POSTGRES_URL's): see test/postgres-server.ts.
  test: { ...sharedTestConfig.test, globalSetup: ['test/postgres-server.ts'] },
});
