import { SignJWT } from 'jose';
import { readAdapterOptions } from '@dcr-bridge/core';
import { konnectApplication, startBridge, type BridgeHarness } from '@dcr-bridge/conformance';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKeycloakAdapter, dcrBridgeAdapter } from '../src/index.js';
import { startFakeKeycloak, type FakeKeycloak } from './fake-keycloak.js';

let keycloak: FakeKeycloak;
let bridge: BridgeHarness;
let adapter: ReturnType<typeof createKeycloakAdapter>;
const adapterFor = (overrides: Partial<Parameters<typeof createKeycloakAdapter>[0]> = {}) =>
  createKeycloakAdapter({ baseUrl: keycloak.url, realm: keycloak.realm, tokenRealm: keycloak.admin.realm, clientId: keycloak.admin.clientId, clientSecret: keycloak.admin.clientSecret, ...overrides });

beforeAll(async () => {
  keycloak = await startFakeKeycloak();
  adapter = adapterFor();
  bridge = await startBridge(adapter);
});
afterAll(async () => {
  await bridge.close();
  await keycloak.close();
});
afterEach(() => keycloak.setAdminCanManage(true));

describe('create', () => {
  it('makes a confidential client with the requested scopes, grants and Konnect ids, answering with its clientId', async () => {
    const res = await bridge.call('POST', '/', { body: konnectApplication({ client_name: 'Orders App', grant_types: ['authorization_code', 'bearer'], scopes: ['read:orders', 'write:orders'] }) });
    expect(res.status).toBe(201);
    const client = keycloak.clientByClientId(res.body.client_id);
    expect(res.body.client_id).toMatch(/^konnect-orders-app-[a-z0-9]{8}$/);
    expect(res.body.client_id).not.toBe(client?.rep.id);
    expect(client?.rep).toMatchObject({ publicClient: false, clientAuthenticatorType: 'client-secret', serviceAccountsEnabled: true, standardFlowEnabled: true, implicitFlowEnabled: false, name: 'Orders App' });
    expect(client?.rep.attributes).toMatchObject({ 'dcr-bridge.managed': 'true', 'dcr-bridge.konnect.portal_id': expect.any(String), 'dcr-bridge.konnect.dcr_provider_id': expect.any(String) });
    const token = await keycloak.clientCredentials(res.body.client_id, res.body.client_secret);
    const scope = JSON.parse(Buffer.from(token!.split('.')[1]!, 'base64url').toString()).scope as string;
    expect(scope.split(' ')).toEqual(expect.arrayContaining(['read:orders', 'write:orders', 'profile']));
  });

  it('maps client_secret_jwt to Keycloak\'s signed-JWT authenticator, and the credentials work that way', async () => {
    const res = await bridge.call('POST', '/', { body: konnectApplication({ token_endpoint_auth_method: 'client_secret_jwt' }) });
    expect(res.status).toBe(201);
    expect(keycloak.clientByClientId(res.body.client_id)?.rep.clientAuthenticatorType).toBe('client-secret-jwt');
    const assertion = await new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(res.body.client_id)
      .setSubject(res.body.client_id)
      .setAudience(`${keycloak.url}/realms/${keycloak.realm}`)
      .setExpirationTime('60s')
      .sign(new TextEncoder().encode(res.body.client_secret));
    const token = await fetch(`${keycloak.url}/realms/${keycloak.realm}/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: res.body.client_id, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
    });
    expect(token.status).toBe(200);
  });

  it('refuses an auth method Keycloak cannot give a secret client, creating nothing', async () => {
    const before = keycloak.clientCount();
    const res = await bridge.call('POST', '/', { body: konnectApplication({ token_endpoint_auth_method: 'private_key_jwt' }) });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringContaining('"private_key_jwt"') });
    expect(keycloak.clientCount()).toBe(before);
  });

  it.each([
    ['assigning a scope', 'PUT', /default-client-scopes/],
    ['reading the secret', 'GET', /client-secret$/],
  ])('leaves no client behind when %s fails', async (_step, method, pattern) => {
    const before = keycloak.clientCount();
    keycloak.failNext(method, pattern, 500, { error: 'unknown_error' });
    const res = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['read:orders'] }) });
    expect(res.status).toBe(502);
    await adapter.drained?.();
    expect(keycloak.clientCount()).toBe(before);
  });
});

describe('paths built from client ids', () => {
  // A bare ".." cannot even be sent with fetch (it normalises it away); core's tests send it raw.
  it.each(['../../users', 'a/b', '%2F..%2Fusers', 'x?first=0', '../..'])('never lets %j reach another admin path', async (clientId) => {
    const start = keycloak.requests.length;
    const encoded = encodeURIComponent(clientId);
    const deleted = await bridge.call('DELETE', `/${encoded}`);
    const rotated = await bridge.call('POST', `/${encoded}/new-secret`);
    expect([204, 400]).toContain(deleted.status);
    expect([404, 400]).toContain(rotated.status);
    const paths = keycloak.requests.slice(start).filter((line) => line.includes('/admin/'));
    for (const line of paths) expect(line).toMatch(/^GET \/admin\/realms\/customers\/clients\?clientId=[^&/]*&search=false$/);
  });
});

describe('the admin token', () => {
  it('is requested once for many concurrent calls, and again after it expires', async () => {
    const adapter = adapterFor();
    const local = await startBridge(adapter);
    try {
      const before = keycloak.tokenRequests(keycloak.admin.clientId);
      const results = await Promise.all(Array.from({ length: 10 }, () => local.call('POST', '/', { body: konnectApplication() })));
      expect(results.map((r) => r.status)).toEqual(Array(10).fill(201));
      expect(keycloak.tokenRequests(keycloak.admin.clientId) - before).toBe(1);
      keycloak.advanceClock(301);
      expect((await local.call('DELETE', `/${results[0]!.body.client_id}`)).status).toBe(204);
      expect(keycloak.tokenRequests(keycloak.admin.clientId) - before).toBe(2);
    } finally {
      await local.close();
    }
  });
});

describe('IdP failures', () => {
  it('reports a service account without manage-clients as a refused credential, never as "gone"', async () => {
    const created = await bridge.call('POST', '/', { body: konnectApplication() });
    keycloak.setAdminCanManage(false);
    const res = await bridge.call('DELETE', `/${created.body.client_id}`);
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('idp_error');
    expect(res.body.error_description).toMatch(/admin credentials were refused or lack a permission/);
    keycloak.setAdminCanManage(true);
    expect(keycloak.clientByClientId(created.body.client_id)).toBeDefined();
  });

  it('waits out a short 429 on lookups and answers 503 with Retry-After on a rate-limited create', async () => {
    keycloak.failNext('GET', /\/clients$/, 429, { error: 'too many requests' }, { 'retry-after': '0' });
    expect((await bridge.call('DELETE', '/konnect-nobody-00000000')).status).toBe(204);
    keycloak.failNext('POST', /\/clients$/, 429, { error: 'too many requests' }, { 'retry-after': '30' });
    const limited = await bridge.call('POST', '/', { body: konnectApplication() });
    expect(limited.status).toBe(503);
    expect(limited.headers.get('retry-after')).toBe('30');
  });

  it('answers 502 with a clear message when the admin client secret is wrong, without the secret', async () => {
    const wrong = await startBridge(adapterFor({ clientSecret: 'wrong-admin-secret' }));
    try {
      const res = await wrong.call('POST', '/', { body: konnectApplication() });
      expect(res.status).toBe(502);
      expect(res.body.error_description).toContain('dcr-bridge');
      expect(JSON.stringify(res.body)).not.toContain('wrong-admin-secret');
      expect((await fetch(`${wrong.baseUrl}/readyz`)).status).toBe(503);
    } finally {
      await wrong.close();
    }
  });

  it('answers 502 when Keycloak cannot be reached', async () => {
    const down = await startBridge(createKeycloakAdapter({ baseUrl: 'http://127.0.0.1:1', realm: 'r', clientId: 'c', clientSecret: 's' }));
    try {
      expect((await down.call('DELETE', '/x')).status).toBe(502);
    } finally {
      await down.close();
    }
  });
});

describe('settings', () => {
  it('reads the Keycloak settings', () => {
    expect(
      readAdapterOptions(dcrBridgeAdapter, { KEYCLOAK_URL: 'https://sso.example.com/auth', KEYCLOAK_REALM: 'customers', KEYCLOAK_CLIENT_ID: 'dcr-bridge', KEYCLOAK_CLIENT_SECRET: 's', KEYCLOAK_TOKEN_REALM: 'master' }),
    ).toEqual({ baseUrl: 'https://sso.example.com/auth', realm: 'customers', clientId: 'dcr-bridge', clientSecret: 's', tokenRealm: 'master', timeoutMs: 30_000 });
  });

  it('lists every missing setting at once', () => {
    expect(() => readAdapterOptions(dcrBridgeAdapter, { KEYCLOAK_URL: 'not a url' })).toThrow(
      'Invalid keycloak settings:\n- KEYCLOAK_URL must be an absolute URL (got "not a url").\n- KEYCLOAK_REALM is required.\n- KEYCLOAK_CLIENT_ID is required.\n- KEYCLOAK_CLIENT_SECRET is required.',
    );
  });
});
