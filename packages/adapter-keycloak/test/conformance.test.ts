import type { LifecycleSettings } from '@dcr-bridge/core';
import { createCapturingLogger, runConformanceSuite } from '@dcr-bridge/conformance';
import { callBudget } from './call-budget.js';
import { createKeycloakAdapter } from '../src/index.js';
import { startFakeKeycloak, tokenAudiences, type FakeKeycloak } from './fake-keycloak.js';

let keycloak: FakeKeycloak;
const logger = createCapturingLogger();

runConformanceSuite({
  name: 'keycloak (fake admin REST API, /auth prefix, admin client in master)',
  async setup() {
    keycloak = await startFakeKeycloak({ pathPrefix: '/auth' });
    const adapterWith = (clientSecret: string, settings: LifecycleSettings = {}) =>
      createKeycloakAdapter({
        ...settings,
        baseUrl: keycloak.url,
        realm: keycloak.realm,
        tokenRealm: keycloak.admin.realm,
        clientId: keycloak.admin.clientId,
        clientSecret,
        logger,
      });
    const tooManyRequests = (method: string, path: RegExp, retryAfterSeconds: number) =>
      keycloak.failNext(method, path, 429, { error: 'too many requests' }, { 'retry-after': String(retryAfterSeconds) });
    return {
      adapter: adapterWith(keycloak.admin.clientSecret),
      callBudget,
      build: (settings) => adapterWith(keycloak.admin.clientSecret, settings),
      // Restore mode: the rotation itself gives the client its new secret (ClientResource.regenerateSecret).
      rotationRequest: { method: 'POST', path: /\/clients\/[^/]+\/client-secret$/ },
      logger,
      hiddenValues: [keycloak.admin.clientSecret],
      idp: {
        adminRequests: () => keycloak.requests.filter((line) => !line.includes('/protocol/openid-connect/token')),
        coldAdapter: () => adapterWith(keycloak.admin.clientSecret),
        adminTokensIssued: () => keycloak.tokenRequests(keycloak.admin.clientId),
        rateLimitNextCreate: (seconds) => (tooManyRequests('POST', /\/clients$/, seconds), seconds),
        rateLimitNextLookup: (seconds) => tooManyRequests('GET', /\/clients$/, seconds),
        refusedCredentials: () => ({ adapter: adapterWith('wrong-admin-secret'), secret: 'wrong-admin-secret' }),
      },
      faults: keycloak.faults,
      application: { scopes: ['read:orders'] },
      unknownScope: 'no-such-scope',
      backdoor: {
        canGetToken: async (clientId, secret) => (await keycloak.clientCredentials(clientId, secret)) !== undefined,
        clientExists: async (clientId) => keycloak.clientByClientId(clientId) !== undefined,
        redirectUris: async (clientId) => (keycloak.clientByClientId(clientId)?.rep.redirectUris as string[] | undefined) ?? [],
        createForeignClient: async () => keycloak.createForeignClient(),
        countClients: async () => keycloak.clientCount(),
        // The client's home URL, which the bridge never sets (its writes carry only the fields they change).
        adminSetting: {
          set: async (clientId, value) => keycloak.editClient(clientId, { baseUrl: `https://home.example.com/${value}` }),
          get: async (clientId) =>
            (keycloak.clientByClientId(clientId)?.rep.baseUrl as string | undefined)?.replace('https://home.example.com/', ''),
        },
        async audiences(clientId) {
          const client = keycloak.clientByClientId(clientId);
          const token = client ? await keycloak.clientCredentials(clientId, client.secret) : undefined;
          return token ? tokenAudiences(token) : [];
        },
      },
    };
  },
  async teardown() {
    await keycloak.close();
    // Every admin request the adapter sent and every answer the fake gave, against Keycloak's pinned OpenAPI document.
    keycloak.api.expectNoProblems();
  },
});
