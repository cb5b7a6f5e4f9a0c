import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEncryptedStore } from '@dcr-bridge/core';
import { createCapturingLogger, runConformanceSuite } from '@dcr-bridge/conformance';
import { createSqliteDriver } from '@dcr-bridge/store-sqlite';
import { afterAll, expect } from 'vitest';
import { createRfc7591Adapter } from '../src/index.js';
import { startTestProvider, type TestProvider } from './oidc-provider.js';

let idp: TestProvider;
const dir = mkdtempSync(join(tmpdir(), 'dcr-rfc7591-'));
const logger = createCapturingLogger();

runConformanceSuite({
  name: 'rfc7591 against oidc-provider',
  async setup() {
    idp = await startTestProvider();
    const store = createEncryptedStore({ driver: createSqliteDriver({ path: join(dir, 'state.sqlite') }), keys: [new Uint8Array(randomBytes(32))] });
    const adapter = createRfc7591Adapter({ issuer: idp.issuer, initialAccessToken: await idp.rotatingInitialAccessToken(), store, allowInsecureHttp: true, logger });
    return {
      adapter: { ...adapter, close: () => store.close() },
      logger,
      foreignClients: 'unknown',
      unknownScope: 'no-such-scope',
      faults: idp.faults,
      // RFC 7591 clients cannot be searched, and an RFC 7592 update rotates the only management token:
      // a lost answer to either is what this IdP makes impossible to recover (see the README).
      faultLimits: { unsearchableCreate: { method: 'POST', path: /^\/reg$/ }, tokenRotatingUpdate: { method: 'PUT', path: /^\/reg\/[^/]+$/ } },
      backdoor: {
        canGetToken: (clientId, secret) => idp.canGetToken(clientId, secret),
        clientExists: async (clientId) => (await idp.storedClient(clientId)) !== undefined,
        redirectUris: async (clientId) => ((await idp.storedClient(clientId))?.redirect_uris as string[] | undefined) ?? [],
        countClients: async () => idp.countClients(),
        async createForeignClient() {
          const response = await fetch(idp.registrationEndpoint, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${await idp.plainInitialAccessToken()}` },
            body: JSON.stringify({ client_name: 'not the bridge', redirect_uris: ['https://foreign.example.com/cb'], grant_types: ['client_credentials'], response_types: [] }),
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
});


afterAll(() => {
  // Registration access tokens are never logged either (the suite checks the client secrets).
  expect(logger.text()).not.toMatch(/registration_access_token"\s*:\s*"[^[]/);
});
