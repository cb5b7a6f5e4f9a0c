import { afterAll } from 'vitest';
import type { LifecycleSettings } from '@dcr-bridge/core';
import { createCapturingLogger, runConformanceSuite } from '@dcr-bridge/conformance';
import { callBudget } from './call-budget.js';
import { createCognitoAdapter } from '../src/index.js';
import { startCognitoEnvironment, type CognitoEnvironment } from './environment.js';

let env: CognitoEnvironment;
/** An access key the proxy's IAM does not know, as AWS answers a deleted or mistyped one. */
const REFUSED_KEY = { accessKeyId: 'AKIAREFUSEDKEY000000', secretAccessKey: 'refused-secret-access-key' };
const LOCAL_KEY = { accessKeyId: 'local', secretAccessKey: 'local' };
const logger = createCapturingLogger();

// Every call of the suite's scenarios and every answer the proxy gave, against AWS's model of the API.
afterAll(() => env.proxy.api.expectNoProblems());

runConformanceSuite({
  name: 'cognito (cognito-local behind a proxy faithful to AWS)',
  async setup() {
    env = await startCognitoEnvironment();
    const adapterAs = (credentials: { accessKeyId: string; secretAccessKey: string }, settings: LifecycleSettings = {}) =>
      createCognitoAdapter({ userPoolId: env.userPoolId, region: 'eu-west-1', endpoint: env.proxy.url, credentials, logger, ...settings });
    return {
      adapter: adapterAs(LOCAL_KEY),
      callBudget,
      build: (settings) => adapterAs(LOCAL_KEY, settings),
      // The add of two-phase rotation. Every AWS call is POST / naming its operation in X-Amz-Target; the
      // proxy shows the kit each call as POST /<Operation>, so this matches AddUserPoolClientSecret alone.
      rotationRequest: { method: 'POST', path: /^\/AddUserPoolClientSecret$/ },
      logger,
      application: { scopes: ['orders/read'] },
      unknownScope: 'orders/nonexistent',
      backdoor: env.backdoor,
      // An id of Cognito's form (ClientIdType, [\w+]) that no client has: one with a "-" never reaches Cognito (see find).
      unknownClientId: `nosuchclient${Date.now().toString(36)}`,
      faults: env.proxy.faults,
      idp: {
        // Every Cognito call is a POST to / naming its operation in X-Amz-Target: the log holds the operations.
        adminRequests: () => env.proxy.targets,
        // TooManyRequestsException names no wait.
        rateLimitNextCreate: () => void env.proxy.throttleNext('CreateUserPoolClient'),
        rateLimitNextLookup: () => env.proxy.throttleNext('DescribeUserPoolClient'),
        refusedCredentials() {
          env.proxy.unknownKeys.add(REFUSED_KEY.accessKeyId);
          return { adapter: adapterAs(REFUSED_KEY), secret: REFUSED_KEY.secretAccessKey };
        },
      },
    };
  },
  teardown: () => env.stop(),
  skip: {
    'idp-plumbing/one-admin-token': 'the AWS SDK signs every request with the IAM credentials (SigV4): no admin token is ever requested',
    'idp-plumbing/encoded-path-segments':
      "Cognito's API takes the client id in a JSON body, never in a URL: there is no path segment to escape",
    'idp-plumbing/route-templates':
      "the AWS SDK calls Cognito, not core's IdP HTTP client: no IdP call is published on core's idp-call channel, and each SDK command is one fixed action with no path to template",
  },
});
