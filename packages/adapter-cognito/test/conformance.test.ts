import { createCapturingLogger, runConformanceSuite } from '@dcr-bridge/conformance';
import { afterAll, expect } from 'vitest';
import { createCognitoAdapter } from '../src/index.js';
import { startCognitoEnvironment, type CognitoEnvironment } from './environment.js';

let env: CognitoEnvironment;
const logger = createCapturingLogger();
const secretsSeen: string[] = [];

runConformanceSuite({
  name: 'cognito (cognito-local behind a proxy faithful to AWS)',
  async setup() {
    env = await startCognitoEnvironment();
    const adapter = createCognitoAdapter({ userPoolId: env.userPoolId, region: 'eu-west-1', endpoint: env.proxy.url, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    return {
      adapter,
      logger,
      application: { scopes: ['orders/read'] },
      unknownScope: 'orders/nonexistent',
      backdoor: {
        ...env.backdoor,
        async canGetToken(clientId, secret) {
          secretsSeen.push(secret);
          return env.backdoor.canGetToken(clientId, secret);
        },
      },
    };
  },
  teardown: () => env.stop(),
});

afterAll(() => {
  expect(secretsSeen.length).toBeGreaterThan(3);
  for (const secret of secretsSeen) expect(logger.text()).not.toContain(secret);
});
