import type { LifecycleSettings } from '@dcr-bridge/core';
import { createCapturingLogger, runConformanceSuite } from '@dcr-bridge/conformance';
import { callBudget } from './call-budget.js';
import { createZitadelAdapter } from '../src/index.js';
import { startFakeZitadel, type FakeZitadel, type ZitadelGeneration } from './fake-zitadel.js';

const service = '/zitadel.application.v2.ApplicationService';
const userService = '/zitadel.user.v2.UserService';

// Both API generations (README, "Supported versions"): with and without ListApplications' client id filter.
for (const generation of ['current', 'v4.5'] satisfies ZitadelGeneration[]) {
  let idp: FakeZitadel;
  const logger = createCapturingLogger();

  runConformanceSuite({
    name: `zitadel ${generation} (fake ApplicationService and UserService)`,
    async setup() {
      idp = await startFakeZitadel({ generation });
      const adapterWith = (apiToken: string, settings: LifecycleSettings = {}) =>
        createZitadelAdapter({
          baseUrl: idp.url,
          projectId: idp.projectId,
          organizationId: idp.organizationId,
          apiToken,
          logger,
          ...settings,
        });
      const tooManyRequests = (method: string, path: RegExp, retryAfterSeconds: number) =>
        idp.failNext(
          method,
          path,
          429,
          { code: 'resource_exhausted', message: 'quota exceeded' },
          { 'retry-after': String(retryAfterSeconds) },
        );
      return {
        adapter: adapterWith(idp.apiToken),
        logger,
        hiddenValues: [idp.apiToken],
        idp: {
          adminRequests: () => idp.requests.filter((line) => !line.includes('/oauth/v2/token')),
          coldAdapter: () => adapterWith(idp.apiToken),
          // The suite's client_credentials registrations become service users: CreateUser.
          rateLimitNextCreate: (seconds) => (tooManyRequests('POST', new RegExp(`^${userService}/CreateUser$`), seconds), seconds),
          // A cold lookup of a client id without the bridge's prefix (the suite's unknown ids) starts with a ListApplications page.
          rateLimitNextLookup: (seconds) => tooManyRequests('POST', new RegExp(`^${service}/ListApplications$`), seconds),
          refusedCredentials: () => ({ adapter: adapterWith('not-the-api-token'), secret: 'not-the-api-token' }),
        },
        faults: idp.faults,
        callBudget,
        build: (settings) => adapterWith(idp.apiToken, settings),
        // The suite's client_credentials registrations are service users: their secret comes from AddSecret, which replaces it.
        rotationRequest: { method: 'POST', path: new RegExp(`^${userService}/AddSecret$`) },
        unknownScope: 'read:orders',
        backdoor: {
          canGetToken: (clientId, secret) => idp.clientCredentials(clientId, secret),
          clientExists: async (clientId) => idp.clientExists(clientId),
          // A service user's redirect URIs, read back from its metadata (ListUserMetadata).
          redirectUris: (clientId) => idp.redirectUris(clientId),
          createForeignClient: async () => idp.createForeignMachineUser(),
          countClients: async () => idp.clientCount(),
          // A metadata entry of the service user that the bridge never writes (its writes name the keys they change).
          adminSetting: {
            set: async (clientId, value) => idp.setUserMetadata(clientId, 'owner', value),
            get: async (clientId) => idp.userMetadata(clientId, 'owner'),
          },
        },
      };
    },
    async teardown() {
      await idp.close();
      // Every request the adapter sent and every answer the fake gave, as ZITADEL's protos describe them.
      idp.api.expectNoProblems();
    },
    skip: {
      'idp-plumbing/one-admin-token': 'a personal access token: the bridge requests no admin token',
      'idp-plumbing/encoded-path-segments':
        'no client id reaches a path or query: every call is a Connect POST to a fixed path, ids travel in its JSON body, and a lookup by client id lists the project',
    },
  });
}
