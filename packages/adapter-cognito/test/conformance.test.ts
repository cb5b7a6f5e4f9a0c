import { createCapturingLogger, runConformanceSuite } from '@dcr-bridge/conformance';
import { createCognitoAdapter } from '../src/index.js';
import { startCognitoEnvironment, type CognitoEnvironment } from './environment.js';

let env: CognitoEnvironment;
const logger = createCapturingLogger();

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
      backdoor: env.backdoor,
      faults: env.proxy.faults,
    };
  },
  teardown: () => env.stop(),
});

