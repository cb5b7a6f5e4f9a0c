import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEncryptedStore,
  createJsonStore,
  createMemoryDriver,
  readAdapterOptions,
  silentLogger,
  type OperationContext,
  type StateStore,
} from '@dcr-bridge/core';
import { konnectApplication, startBridge } from '@dcr-bridge/conformance';
import { createSqliteDriver } from '@dcr-bridge/store-sqlite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRfc7591Adapter, dcrBridgeAdapter } from '../src/index.js';
import { startTestProvider, type TestProvider, registrationApi } from './oidc-provider.js';
import { createApiDescription, type OpenApiDocument } from '@dcr-bridge/conformance';
import rfc7591 from './vendor/rfc7591-rfc7592.openapi.json' with { type: 'json' };

const context = (): OperationContext => ({
  signal: AbortSignal.timeout(5000),
  deadline: AbortSignal.timeout(5000),
  answered: Promise.resolve(true),
  logger: silentLogger,
  requestId: 'test',
});
const memoryStore = () => createEncryptedStore({ driver: createMemoryDriver(), keys: [new Uint8Array(randomBytes(32))] });
const registration = (overrides: Record<string, unknown> = {}) => ({
  clientName: 'Test app',
  description: '',
  redirectUris: ['https://app.example.com/cb'],
  grantTypes: ['client_credentials' as const],
  requestedGrantTypes: ['client_credentials'],
  scopes: [],
  tokenEndpointAuthMethod: 'client_secret_basic',
  konnect: { portalId: 'p', organizationId: 'o', developerId: 'd', authStrategyId: 'a', dcrProviderId: 'x' },
  ...overrides,
});

let idp: TestProvider;
let dir: string;
beforeAll(async () => {
  idp = await startTestProvider();
});
afterAll(() => idp.close());
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('state across restarts', () => {
  it('rotates and deletes a client created before a restart, from the same store file and key', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dcr-rfc7591-restart-'));
    const key = new Uint8Array(randomBytes(32));
    const path = join(dir, 'state.sqlite');
    const iat = await idp.rotatingInitialAccessToken();
    const before = createEncryptedStore({ driver: createSqliteDriver({ path }), keys: [key] });
    const created = await createRfc7591Adapter({
      issuer: idp.issuer,
      initialAccessToken: iat,
      store: before,
      allowInsecureHttp: true,
    }).createClient(registration(), context());
    await before.close();

    const after = createEncryptedStore({ driver: createSqliteDriver({ path }), keys: [key] });
    const restarted = createRfc7591Adapter({ issuer: idp.issuer, initialAccessToken: iat, store: after, allowInsecureHttp: true });
    const rotated = await restarted.rotateSecret!(created.clientId, context());
    expect(await idp.canGetToken(created.clientId, created.clientSecret)).toBe(false);
    expect(await idp.canGetToken(created.clientId, rotated.clientSecret)).toBe(true);
    await restarted.deleteClient(created.clientId, context());
    expect(await idp.storedClient(created.clientId)).toBeUndefined();
    expect(await after.get(created.clientId)).toBeUndefined();
    await after.close();
  });
});

// The registration token fetched once by client_credentials for concurrent creates: the conformance suite's
// `idp plumbing` group (test/conformance.test.ts).
describe('initial access token modes', () => {
  it('works with the registration endpoint given directly, without discovery', async () => {
    const discoveriesBefore = idp.requests.filter((r) => r.includes('.well-known')).length;
    const adapter = createRfc7591Adapter({
      registrationEndpoint: idp.registrationEndpoint,
      initialAccessToken: await idp.rotatingInitialAccessToken(),
      store: memoryStore(),
      allowInsecureHttp: true,
    });
    const created = await adapter.createClient(registration(), context());
    expect(await idp.canGetToken(created.clientId, created.clientSecret)).toBe(true);
    expect(idp.requests.filter((r) => r.includes('.well-known')).length).toBe(discoveriesBefore);
  });

  it('says which setting to check when the IdP refuses the initial access token', async () => {
    const adapter = createRfc7591Adapter({
      issuer: idp.issuer,
      initialAccessToken: 'not-a-real-token',
      store: memoryStore(),
      allowInsecureHttp: true,
    });
    const error = await adapter.createClient(registration(), context()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'idp_error' });
    expect((error as Error).message).toContain("the adapter's initialAccessToken or tokenClient");
    expect((error as Error).message).not.toContain('not-a-real-token');
  });
});

describe('an IdP that does not rotate secrets on update', () => {
  it('answers unsupported_operation, and the old secret keeps working', async () => {
    const bridge = await startBridge(
      createRfc7591Adapter({
        issuer: idp.issuer,
        initialAccessToken: await idp.plainInitialAccessToken(),
        store: memoryStore(),
        allowInsecureHttp: true,
      }),
    );
    try {
      const created = await bridge.call('POST', '/', { body: konnectApplication() });
      expect(created.status).toBe(201);
      const rotated = await bridge.call('POST', `/${created.body.client_id}/new-secret`);
      expect(rotated.status).toBe(400);
      expect(rotated.body.error).toBe('unsupported_operation');
      expect(rotated.body.error_description).toContain('disable refresh secret');
      expect(await idp.canGetToken(created.body.client_id, created.body.client_secret)).toBe(true);
      // The registration access token rotated during that update; the stored one still works.
      expect((await bridge.call('DELETE', `/${created.body.client_id}`)).status).toBe(204);
      expect(await idp.storedClient(created.body.client_id)).toBeUndefined();
    } finally {
      await bridge.close();
    }
  });
});

describe('no half-created clients', () => {
  it('deletes the client at the IdP when the bridge cannot record it', async () => {
    const failing: StateStore = { ...memoryStore(), set: async () => Promise.reject(new Error('disk full')) };
    const journal = createJsonStore(createMemoryDriver());
    const adapter = createRfc7591Adapter({
      issuer: idp.issuer,
      initialAccessToken: await idp.rotatingInitialAccessToken(),
      store: failing,
      journal,
      allowInsecureHttp: true,
    });
    const before = idp.countClients();
    await expect(adapter.createClient(registration(), context())).rejects.toThrow('disk full');
    await adapter.drained?.();
    expect(idp.countClients()).toBe(before);
  });

  it('names the client to delete by hand when the IdP offers no RFC 7592 management', async () => {
    const stub = createServer((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ client_id: 'orphan-123', client_secret: 'shh' }));
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    try {
      const adapter = createRfc7591Adapter({
        registrationEndpoint: `http://127.0.0.1:${(stub.address() as AddressInfo).port}/register`,
        store: memoryStore(),
        allowInsecureHttp: true,
      });
      const error = (await adapter.createClient(registration(), context()).catch((e: unknown) => e)) as Error;
      expect(error).toMatchObject({ code: 'idp_error' });
      expect(error.message).toContain('orphan-123');
      expect(error.message).not.toContain('shh');
    } finally {
      stub.closeAllConnections();
      stub.close();
    }
  });
});

describe('an unreachable IdP', () => {
  it('is not ready, answers idp_unavailable, and recovers without a restart', async () => {
    const adapter = createRfc7591Adapter({ issuer: 'http://127.0.0.1:1', store: memoryStore(), allowInsecureHttp: true });
    expect(await adapter.checkReady(context())).toMatchObject({ ready: false });
    await expect(adapter.createClient(registration(), context())).rejects.toMatchObject({ code: 'idp_unavailable' });
    const ready = createRfc7591Adapter({
      issuer: idp.issuer,
      initialAccessToken: await idp.rotatingInitialAccessToken(),
      store: memoryStore(),
      allowInsecureHttp: true,
    });
    expect(await ready.checkReady(context())).toEqual({ ready: true });
  });
});

describe('settings', () => {
  it('reads a discovery configuration with a client_credentials token client', () => {
    expect(
      readAdapterOptions(dcrBridgeAdapter, {
        RFC7591_ISSUER: 'https://idp.example.com/realms/x',
        RFC7591_TOKEN_CLIENT_ID: 'bridge',
        RFC7591_TOKEN_CLIENT_SECRET: 's3cret',
        RFC7591_TOKEN_SCOPE: 'dcr',
        RFC7591_TIMEOUT_MS: '5000',
      }),
    ).toEqual({
      issuer: 'https://idp.example.com/realms/x',
      registrationEndpoint: undefined,
      tokenEndpoint: undefined,
      initialAccessToken: undefined,
      tokenClient: { clientId: 'bridge', clientSecret: 's3cret', scope: 'dcr' },
      allowInsecureHttp: false,
      timeoutMs: 5000,
    });
  });

  it('lists every problem at once, without secret values', () => {
    const read = () =>
      readAdapterOptions(dcrBridgeAdapter, {
        RFC7591_ISSUER: 'http://idp.example.com',
        RFC7591_REGISTRATION_ENDPOINT: 'https://idp.example.com/reg',
        RFC7591_INITIAL_ACCESS_TOKEN: 'iat-secret-value',
        RFC7591_TOKEN_CLIENT_ID: 'bridge',
      });
    expect(read).toThrow(/RFC7591_ISSUER must be an https URL/);
    expect(read).toThrow(/not both\./);
    expect(read).toThrow(/RFC7591_TOKEN_CLIENT_ID and RFC7591_TOKEN_CLIENT_SECRET go together/);
    expect(() => readAdapterOptions(dcrBridgeAdapter, {})).toThrow(/Set RFC7591_ISSUER \(discovery\) or RFC7591_REGISTRATION_ENDPOINT/);
    try {
      read();
    } catch (error) {
      expect((error as Error).message).not.toContain('iat-secret-value');
    }
  });

  it('allows http only when told to', () => {
    expect(
      readAdapterOptions(dcrBridgeAdapter, { RFC7591_ISSUER: 'http://127.0.0.1:3000/dev-idp', RFC7591_ALLOW_INSECURE_HTTP: 'true' }).issuer,
    ).toBe('http://127.0.0.1:3000/dev-idp');
  });

  it('builds the adapter with the store the server opens', async () => {
    let opened = 0;
    const options = readAdapterOptions(dcrBridgeAdapter, { RFC7591_ISSUER: idp.issuer, RFC7591_ALLOW_INSECURE_HTTP: 'true' });
    const adapter = await dcrBridgeAdapter.create(options, {
      logger: silentLogger,
      openStore: async () => (opened++, memoryStore()),
      openJournal: async () => createJsonStore(createMemoryDriver()),
      openLifecycle: async () => (opened++, { journal: createJsonStore(createMemoryDriver()) }),
    });
    expect(adapter.id).toBe('rfc7591');
    expect(opened).toBe(2);
  });
});

// Every registration request and RFC 7592 call the provider saw, and its answers, against RFC 7591/7592 (test/vendor).
afterAll(() => registrationApi.expectNoProblems());

describe('RFC 7591 / RFC 7592 as pinned (test/vendor)', () => {
  it('reports a misspelt field, a read-only field in an update, a missing client_id, a wrong type and an answer without management', () => {
    const api = createApiDescription({ name: 'RFC 7591 / RFC 7592', document: rfc7591 as unknown as OpenApiDocument });
    const metadata = { client_name: 'Orders [k3j9x2ab]', redirect_uris: [], grant_types: ['client_credentials'], response_types: [] };
    expect(api.checkRequest('POST', '/reg', { ...metadata, token_endpoint_auth_method: 'client_secret_basic' })).toEqual([]);
    expect(api.checkRequest('POST', '/reg', { ...metadata, token_endpoint_auth_methods: 'client_secret_basic' })).toEqual([
      'POST /reg: request body: /token_endpoint_auth_methods is not described',
    ]);
    expect(api.checkRequest('PUT', '/reg/abc', { ...metadata, client_id: 'abc', registration_access_token: 't' })).toEqual([
      'PUT /reg/abc: request body: /registration_access_token is not described',
    ]);
    expect(api.checkRequest('PUT', '/reg/abc', metadata)[0]).toMatch(/required property 'client_id'/);
    expect(api.checkRequest('POST', '/reg', { ...metadata, scope: ['read'] })[0]).toMatch(/\/scope must be string/);
    expect(api.checkResponse('POST', '/reg', 201, { client_id: 'abc', client_secret: 's', client_secret_expires_at: 0 })[0]).toMatch(
      /required property 'registration_access_token'/,
    );
    expect(api.checkResponse('POST', '/reg', 400, { error_description: 'no' })[0]).toMatch(/required property 'error'/);
    expect(() => api.expectNoProblems()).toThrow(/Traffic that RFC 7591 \/ RFC 7592 does not describe/);
  });
});
