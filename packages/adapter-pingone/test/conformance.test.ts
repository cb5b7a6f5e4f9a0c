import { createCapturingLogger, runConformanceSuite } from '@dcr-bridge/conformance';
import { createPingOneAdapter } from '../src/index.js';
import { startFakePingOne, type FakePingOne } from './fake-pingone.js';

let p1: FakePingOne;
const logger = createCapturingLogger();

runConformanceSuite({
  name: 'pingone (fake Platform API and token endpoint)',
  async setup() {
    p1 = await startFakePingOne();
    return {
      adapter: createPingOneAdapter({ environmentId: p1.environmentId, apiUrl: p1.apiUrl, authUrl: p1.authUrl, clientId: p1.worker.clientId, clientSecret: p1.worker.clientSecret, logger }),
      logger,
      hiddenValues: [p1.worker.clientSecret],
      faults: p1.faults,
      application: { scopes: ['orders:read'] },
      unknownScope: 'no-such-scope',
      backdoor: {
        canGetToken: (clientId, secret) => p1.clientCredentials(clientId, secret),
        clientExists: async (clientId) => p1.app(clientId) !== undefined,
        redirectUris: async (clientId) => (p1.app(clientId)?.body.redirectUris as string[] | undefined) ?? [],
        createForeignClient: async () => p1.createForeignApp(),
        countClients: async () => p1.appCount(),
      },
    };
  },
  teardown: () => p1.close(),
});

