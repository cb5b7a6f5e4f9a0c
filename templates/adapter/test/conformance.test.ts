import { createCapturingLogger, runConformanceSuite } from '@dcr-bridge/conformance';
import { create__PASCAL__Adapter } from '../src/index.js';
import { startFake__PASCAL__, type Fake__PASCAL__ } from './fake-__ID__.js';

let idp: Fake__PASCAL__;
const logger = createCapturingLogger();

runConformanceSuite({
  name: '__ID__ (fake admin API)',
  async setup() {
    idp = await startFake__PASCAL__();
    return {
      adapter: create__PASCAL__Adapter({ baseUrl: idp.url, apiToken: idp.apiToken, logger }),
      logger,
      hiddenValues: [idp.apiToken],
      faults: idp.faults,
      application: { scopes: ['read:orders'] },
      unknownScope: 'no-such-scope',
      backdoor: {
        canGetToken: (clientId, secret) => idp.clientCredentials(clientId, secret),
        clientExists: async (clientId) => idp.client(clientId) !== undefined,
        redirectUris: async (clientId) => idp.client(clientId)?.redirect_uris ?? [],
        createForeignClient: async () => idp.createForeignClient(),
        countClients: async () => idp.clientCount(),
      },
    };
  },
  teardown: () => idp.close(),
});
