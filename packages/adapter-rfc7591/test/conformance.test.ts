import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEncryptedStore, createMemoryDriver, type LifecycleSettings } from '@dcr-bridge/core';
import { createCapturingLogger, runConformanceSuite } from '@dcr-bridge/conformance';
import { callBudget } from './call-budget.js';
import { createSqliteDriver } from '@dcr-bridge/store-sqlite';
import { afterAll, expect } from 'vitest';
import { createRfc7591Adapter } from '../src/index.js';
import { startTestProvider, type TestProvider, registrationApi } from './oidc-provider.js';

let idp: TestProvider;
const dir = mkdtempSync(join(tmpdir(), 'dcr-rfc7591-'));
const logger = createCapturingLogger();
/** Why client ids never reach this IdP on their own. */
const unknownIdsStayHome =
  "RFC 7592 management URIs come from the bridge's store (registration_client_uri), never from a client id Konnect sends: a client the store does not hold is answered without a request to the IdP";

/** RFC 7591 lists no clients: core journals a client's id before the create returns, and logs an entry without one for an operator. */
const noSearch = 'RFC 7591/7592 cannot list or search clients, so a create that left no client id in the journal cannot be found';

runConformanceSuite({
  name: 'rfc7591 against oidc-provider',
  async setup() {
    idp = await startTestProvider();
    const store = createEncryptedStore({
      driver: createSqliteDriver({ path: join(dir, 'state.sqlite') }),
      keys: [new Uint8Array(randomBytes(32))],
    });
    const initialAccessToken = await idp.rotatingInitialAccessToken();
    // The registration access tokens live in the store: adapters the rotation group builds share it, as the processes
    // of one server's restarts share its store file.
    const adapterWith = (settings: LifecycleSettings = {}) =>
      createRfc7591Adapter({ issuer: idp.issuer, initialAccessToken, store, allowInsecureHttp: true, logger, ...settings });
    const adapter = adapterWith();
    let adminTokens = 0;
    idp.provider.on('grant.success', (ctx) => {
      if (ctx.oidc.client?.clientId === idp.admin.clientId) adminTokens++;
    });
    const memoryStore = () => createEncryptedStore({ driver: createMemoryDriver(), keys: [new Uint8Array(randomBytes(32))] });
    return {
      adapter: { ...adapter, close: () => store.close() },
      logger,
      hiddenValues: [idp.admin.clientSecret],
      idp: {
        // The provider's request log, its token endpoint (the backdoor's token requests) left out.
        adminRequests: () => idp.requests.filter((line) => !line.startsWith('POST /token')),
        // The initial access token mode fetches no token: the cold adapter gets its registration token by client_credentials.
        coldAdapter: () =>
          createRfc7591Adapter({
            issuer: idp.issuer,
            tokenClient: { ...idp.admin, scope: 'dcr' },
            store: memoryStore(),
            allowInsecureHttp: true,
            logger,
          }),
        adminTokensIssued: () => adminTokens,
        // oidc-provider does not rate-limit; a gateway in front of it does, as the kit's fault layer answers (Retry-After: 1).
        rateLimitNextCreate: () => (idp.faults.faultNext('POST', /^\/reg$/, 'rate_limited'), 1),
        refusedCredentials: () => ({
          adapter: createRfc7591Adapter({
            issuer: idp.issuer,
            initialAccessToken: 'not-a-real-token',
            store: memoryStore(),
            allowInsecureHttp: true,
            logger,
          }),
          secret: 'not-a-real-token',
        }),
      },
      foreignClients: 'unknown',
      unknownScope: 'no-such-scope',
      faults: idp.faults,
      callBudget,
      build: (settings) => ({ ...adapterWith(settings), close: async () => undefined }),
      // RFC 7592: a rotation is an update (PUT) whose answer carries the new secret.
      rotationRequest: { method: 'PUT', path: /^\/reg\/[^/]+$/ },
      // RFC 7591 clients cannot be searched, and an RFC 7592 update rotates the only management token:
      // a lost answer to either is what this IdP makes impossible to recover (see the README).
      faultLimits: {
        unsearchableCreate: { method: 'POST', path: /^\/reg$/ },
        tokenRotatingUpdate: { method: 'PUT', path: /^\/reg\/[^/]+$/ },
      },
      backdoor: {
        canGetToken: (clientId, secret) => idp.canGetToken(clientId, secret),
        clientExists: async (clientId) => (await idp.storedClient(clientId)) !== undefined,
        redirectUris: async (clientId) => ((await idp.storedClient(clientId))?.redirect_uris as string[] | undefined) ?? [],
        countClients: async () => idp.countClients(),
        // The client's home page, which the bridge never registers: an RFC 7592 update replaces all metadata, so it
        // must send back what the provider holds now.
        adminSetting: {
          set: async (clientId, value) => idp.setStoredMetadata(clientId, { client_uri: `https://home.example.com/${value}` }),
          get: async (clientId) =>
            ((await idp.storedClient(clientId))?.client_uri as string | undefined)?.replace('https://home.example.com/', ''),
        },
        async createForeignClient() {
          const response = await fetch(idp.registrationEndpoint, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${await idp.plainInitialAccessToken()}` },
            body: JSON.stringify({
              client_name: 'not the bridge',
              redirect_uris: ['https://foreign.example.com/cb'],
              grant_types: ['client_credentials'],
              response_types: [],
            }),
          });
          return ((await response.json()) as { client_id: string }).client_id;
        },
      },
    };
  },
  async teardown() {
    await idp.close();
    rmSync(dir, { recursive: true, force: true });
  },
  skip: {
    'recovery/by-nonce': noSearch,
    'recovery/never-created': noSearch,
    'idp-plumbing/encoded-path-segments': unknownIdsStayHome,
    'idp-plumbing/rate-limited-lookup': unknownIdsStayHome,
    'idp-plumbing/refused-credentials-delete':
      "RFC 7592 manages each client with its own registration access token, from the bridge's store: no admin credential takes part in a delete",
  },
});

afterAll(() => {
  // Registration access tokens are never logged either (the suite checks the client secrets).
  expect(logger.text()).not.toMatch(/registration_access_token"\s*:\s*"[^[]/);
});

// Every registration request and RFC 7592 call the provider saw, and its answers, against RFC 7591/7592 (test/vendor).
afterAll(() => registrationApi.expectNoProblems());
