import type { LifecycleSettings } from '@dcr-bridge/core';
import { createCapturingLogger, runConformanceSuite } from '@dcr-bridge/conformance';
import { create__PASCAL__Adapter } from '../src/index.js';
import { callBudget } from './call-budget.js';
import { startFake__PASCAL__, type Fake__PASCAL__ } from './fake-__ID__.js';

let idp: Fake__PASCAL__;
const logger = createCapturingLogger();

runConformanceSuite({
  name: '__ID__ (fake admin API)',
  async setup() {
    idp = await startFake__PASCAL__();
    const adapterWith = (apiToken: string, settings: LifecycleSettings = {}) =>
      create__PASCAL__Adapter({ baseUrl: idp.url, apiToken, logger, ...settings });
    const tooManyRequests = (method: string, path: RegExp, retryAfterSeconds: number) =>
      idp.failNext(
        method,
        path,
        429,
        { error: 'rate_limited', message: 'Too many requests.' },
        { 'retry-after': String(retryAfterSeconds) },
      );
    return {
      adapter: adapterWith(idp.apiToken),
      logger,
      hiddenValues: [idp.apiToken],
      // The IdP's side of the wire for the suite's `idp plumbing` and `calls` groups: replace with your fake's.
      idp: {
        adminRequests: () => idp.requests.filter((line) => !line.includes('/oauth/token')),
        coldAdapter: () => adapterWith(idp.apiToken),
        rateLimitNextCreate: (seconds) => (tooManyRequests('POST', /\/admin\/clients$/, seconds), seconds),
        rateLimitNextLookup: (seconds) => tooManyRequests('GET', /\/admin\/clients\/[^/]+$/, seconds),
        refusedCredentials: () => ({ adapter: adapterWith('not-the-api-token'), secret: 'not-the-api-token' }),
      },
      faults: idp.faults,
      // What each Konnect operation costs at your IdP, for the suite's `calls` group (and the README's table).
      callBudget,
      // For the suite's `rotation` and `recovery` groups: adapters on a journal it holds, and the IdP request that issues a secret.
      build: (settings) => adapterWith(idp.apiToken, settings),
      rotationRequest: { method: 'POST', path: /\/admin\/clients\/[^/]+\/secret$/ },
      application: { scopes: ['read:orders'] },
      unknownScope: 'no-such-scope',
      backdoor: {
        canGetToken: (clientId, secret) => idp.clientCredentials(clientId, secret),
        clientExists: async (clientId) => idp.client(clientId) !== undefined,
        redirectUris: async (clientId) => idp.client(clientId)?.redirect_uris ?? [],
        createForeignClient: async () => idp.createForeignClient(),
        countClients: async () => idp.clientCount(),
        // A setting the bridge never sets, changed at the IdP as an administrator would: an update or rotation that wrote
        // back a remembered copy of the client would lose it (lifecycle/keeps-changes-made-at-the-idp).
        adminSetting: {
          set: async (clientId, value) => idp.setMetadata(clientId, 'owner', value),
          get: async (clientId) => idp.client(clientId)?.metadata.owner,
        },
      },
    };
  },
  teardown: () => idp.close(),
  // An opt-out names the scenario and says why your IdP cannot meet it.
  skip: { 'idp-plumbing/one-admin-token': 'a static API token: the bridge requests no admin token' },
});
