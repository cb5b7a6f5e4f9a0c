import { randomUUID } from 'node:crypto';
import type { LifecycleSettings } from '@dcr-bridge/core';
import { createCapturingLogger, runConformanceSuite } from '@dcr-bridge/conformance';
import { callBudget } from './call-budget.js';
import { createFusionauthAdapter } from '../src/index.js';
import { startFakeFusionauth, type FakeFusionauth } from './fake-fusionauth.js';

let idp: FakeFusionauth;
const logger = createCapturingLogger();

runConformanceSuite({
  name: 'fusionauth (fake API)',
  async setup() {
    idp = await startFakeFusionauth();
    const adapterWith = (apiKey: string, settings: LifecycleSettings = {}) =>
      createFusionauthAdapter({
        baseUrl: idp.url,
        apiKey,
        tenantId: idp.tenantId,
        entityTypeId: idp.entityTypeId,
        targetEntityId: idp.targetEntityId,
        logger,
        ...settings,
      });
    // FusionAuth's admin API answers a rate limit with 429 and no body.
    const tooManyRequests = (method: string, path: RegExp, retryAfterSeconds: number) =>
      idp.failNext(method, path, 429, undefined, { 'retry-after': String(retryAfterSeconds) });
    return {
      adapter: adapterWith(idp.apiKey),
      logger,
      hiddenValues: [idp.apiKey],
      idp: {
        adminRequests: () => idp.requests.filter((line) => !line.includes('/oauth2/token')),
        coldAdapter: () => adapterWith(idp.apiKey),
        rateLimitNextCreate: (seconds) => (tooManyRequests('POST', /^\/api\/entity\/[^/]+$/, seconds), seconds),
        rateLimitNextLookup: (seconds) => tooManyRequests('GET', /^\/api\/entity\/[^/]+$/, seconds),
        refusedCredentials: () => ({ adapter: adapterWith('not-the-api-key'), secret: 'not-the-api-key' }),
      },
      faults: idp.faults,
      // FusionAuth's entity ids are UUIDs: an unknown client is a UUID no entity has (other ids never reach it).
      unknownClientId: randomUUID(),
      callBudget,
      build: (settings) => adapterWith(idp.apiKey, settings),
      // A rotation is one PATCH of the entity's clientSecret (and so is putting Konnect's secret back).
      rotationRequest: { method: 'PATCH', path: /^\/api\/entity\/[^/]+$/ },
      application: { scopes: ['read:orders'] },
      unknownScope: 'no-such-permission',
      backdoor: {
        canGetToken: (clientId, secret) => idp.clientCredentials(clientId, secret),
        clientExists: async (clientId) => idp.entity(clientId) !== undefined,
        redirectUris: async (clientId) => (idp.entity(clientId)?.data.redirectUris as string[] | undefined) ?? [],
        createForeignClient: async () => idp.createForeignEntity(),
        countClients: async () => idp.entityCount(),
        // A key of the entity's data the bridge never sets: the PUT of an update sends the whole entity back.
        adminSetting: {
          set: async (clientId, value) => idp.editEntityData(clientId, { owner: value }),
          get: async (clientId) => idp.entity(clientId)?.data.owner as string | undefined,
        },
      },
    };
  },
  async teardown() {
    await idp.close();
    // Every request the adapter sent and every answer the fake gave, as FusionAuth's own API description has them.
    idp.api.expectNoProblems();
  },
  skip: {
    'idp-plumbing/one-admin-token': 'a static API key: the bridge requests no admin token',
    'idp-plumbing/encoded-path-segments':
      'a client id that is not a UUID cannot be a FusionAuth entity id (FusionAuth answers 400 [couldNotConvert]entityId): it is answered without a request (delete 204, new-secret 404), so no hostile id reaches a path; adapter.test.ts checks that and that settings in a path stay in one segment',
  },
});
