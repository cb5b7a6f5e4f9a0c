import { createCapturingLogger, runConformanceSuite } from '@dcr-bridge/conformance';
import { afterAll, expect } from 'vitest';
import { createPingFederateAdapter } from '../src/index.js';
import { startFakePingFederate, type FakePingFederate } from './fake-pingfederate.js';

let pf: FakePingFederate;
const logger = createCapturingLogger();
const secretsSeen: string[] = [];

runConformanceSuite({
  name: 'pingfederate (fake admin API, Basic admin credentials)',
  async setup() {
    pf = await startFakePingFederate();
    return {
      adapter: createPingFederateAdapter({ adminUrl: pf.adminUrl, auth: pf.admin, logger }),
      logger,
      application: { scopes: ['read:orders'] },
      unknownScope: 'no-such-scope',
      backdoor: {
        async canGetToken(clientId, secret) {
          secretsSeen.push(secret);
          return pf.clientCredentials(clientId, secret);
        },
        clientExists: async (clientId) => pf.client(clientId) !== undefined,
        redirectUris: async (clientId) => (pf.client(clientId)?.client.redirectUris as string[] | undefined) ?? [],
        createForeignClient: async () => pf.createForeignClient(),
        countClients: async () => pf.clientCount(),
      },
    };
  },
  teardown: () => pf.close(),
});

afterAll(() => {
  const text = logger.text();
  expect(secretsSeen.length).toBeGreaterThan(3);
  for (const secret of [...secretsSeen, pf.admin.password]) expect(text).not.toContain(secret);
});
