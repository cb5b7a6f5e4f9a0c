import { createCapturingLogger, runConformanceSuite } from '@dcr-bridge/conformance';
import { createPingFederateAdapter } from '../src/index.js';
import { startFakePingFederate, type FakePingFederate } from './fake-pingfederate.js';

let pf: FakePingFederate;
const logger = createCapturingLogger();

runConformanceSuite({
  name: 'pingfederate (fake admin API, Basic admin credentials)',
  async setup() {
    pf = await startFakePingFederate();
    return {
      adapter: createPingFederateAdapter({ adminUrl: pf.adminUrl, auth: pf.admin, logger }),
      logger,
      hiddenValues: [pf.admin.password],
      faults: pf.faults,
      application: { scopes: ['read:orders'] },
      unknownScope: 'no-such-scope',
      backdoor: {
        canGetToken: (clientId, secret) => pf.clientCredentials(clientId, secret),
        clientExists: async (clientId) => pf.client(clientId) !== undefined,
        redirectUris: async (clientId) => (pf.client(clientId)?.client.redirectUris as string[] | undefined) ?? [],
        createForeignClient: async () => pf.createForeignClient(),
        countClients: async () => pf.clientCount(),
      },
    };
  },
  teardown: () => pf.close(),
});

