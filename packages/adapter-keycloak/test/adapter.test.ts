import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import { readAdapterOptions } from '@dcr-bridge/core';
import {
  createCapturingLogger,
  konnectApplication,
  konnectEvent,
  operationContext,
  startBridge,
  type BridgeHarness,
} from '@dcr-bridge/conformance';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKeycloakAdapter, dcrBridgeAdapter } from '../src/index.js';
import { startFakeKeycloak, type FakeKeycloak } from './fake-keycloak.js';
import { createKeycloakApiDescription } from './vendor/keycloak-api.js';

let keycloak: FakeKeycloak;
let bridge: BridgeHarness;
let adapter: ReturnType<typeof createKeycloakAdapter>;
const adapterFor = (overrides: Partial<Parameters<typeof createKeycloakAdapter>[0]> = {}) =>
  createKeycloakAdapter({
    baseUrl: keycloak.url,
    realm: keycloak.realm,
    tokenRealm: keycloak.admin.realm,
    clientId: keycloak.admin.clientId,
    clientSecret: keycloak.admin.clientSecret,
    ...overrides,
  });

beforeAll(async () => {
  keycloak = await startFakeKeycloak();
  adapter = adapterFor();
  bridge = await startBridge(adapter);
});
afterAll(async () => {
  await bridge.close();
  await keycloak.close();
  // Every admin request the adapter sent and every answer the fake gave, against Keycloak's pinned OpenAPI document.
  keycloak.api.expectNoProblems();
});
afterEach(() => keycloak.setAdminRoles(['manage-clients']));

describe('create', () => {
  it('makes a confidential client with the requested scopes, grants and Konnect ids, answering with its clientId', async () => {
    const res = await bridge.call('POST', '/', {
      body: konnectApplication({
        client_name: 'Orders App',
        grant_types: ['authorization_code', 'bearer'],
        scopes: ['read:orders', 'write:orders'],
      }),
    });
    expect(res.status).toBe(201);
    const client = keycloak.clientByClientId(res.body.client_id);
    expect(res.body.client_id).toMatch(/^konnect-orders-app-[a-z0-9]{8}$/);
    expect(res.body.client_id).not.toBe(client?.rep.id);
    expect(client?.rep).toMatchObject({
      publicClient: false,
      clientAuthenticatorType: 'client-secret',
      serviceAccountsEnabled: true,
      standardFlowEnabled: true,
      implicitFlowEnabled: false,
      name: 'Orders App',
    });
    expect(client?.rep.attributes).toMatchObject({
      'dcr-bridge.managed': 'true',
      'dcr-bridge.konnect.portal_id': expect.any(String),
      'dcr-bridge.konnect.dcr_provider_id': expect.any(String),
    });
    const token = await keycloak.clientCredentials(res.body.client_id, res.body.client_secret);
    const scope = JSON.parse(Buffer.from(token!.split('.')[1]!, 'base64url').toString()).scope as string;
    expect(scope.split(' ')).toEqual(expect.arrayContaining(['read:orders', 'write:orders', 'profile']));
  });

  it('answers with the secret it gave Keycloak in the create, which Keycloak kept', async () => {
    const res = await bridge.call('POST', '/', { body: konnectApplication() });
    expect(res.status).toBe(201);
    expect(res.body.client_secret).toMatch(/^[\w-]{43}$/);
    expect(keycloak.clientByClientId(res.body.client_id)?.secret).toBe(res.body.client_secret);
    expect(await keycloak.clientCredentials(res.body.client_id, res.body.client_secret)).toBeDefined();
  });

  it("gives the client the realm's default and optional scopes plus the requested ones, the same with one scope or several", async () => {
    const realm = keycloak.realmScopes();
    const scopesOf = async (scopes: string[]) => {
      const res = await bridge.call('POST', '/', { body: konnectApplication({ scopes }) });
      expect(res.status).toBe(201);
      return keycloak.clientScopes(res.body.client_id);
    };
    expect(await scopesOf([])).toEqual(realm);
    expect(await scopesOf(['read:orders'])).toEqual({
      defaultScopes: [...realm.defaultScopes, 'read:orders'].sort(),
      optionalScopes: realm.optionalScopes,
    });
    expect(await scopesOf(['phone'])).toEqual(realm);
    // Several scopes go into the create itself, with the realm's lists (which the create would otherwise replace).
    expect(await scopesOf(['read:orders', 'write:orders', 'phone', 'email'])).toEqual({
      defaultScopes: [...realm.defaultScopes, 'read:orders', 'write:orders'].sort(),
      optionalScopes: realm.optionalScopes,
    });
  });

  it("maps client_secret_jwt to Keycloak's signed-JWT authenticator, and the credentials work that way", async () => {
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
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: res.body.client_id,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }),
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

  it('leaves no client behind when assigning its one scope fails', async () => {
    const before = keycloak.clientCount();
    keycloak.failNext('PUT', /default-client-scopes/, 500, { error: 'unknown_error' });
    const res = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['read:orders'] }) });
    expect(res.status).toBe(502);
    await adapter.drained?.();
    expect(keycloak.clientCount()).toBe(before);
  });
});

describe('Keycloak calls per Konnect operation (admin token requests aside)', () => {
  const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
  const clients = '/admin/realms/customers/clients';
  const calls = async (work: () => Promise<{ status: number }>, status: number) => {
    const start = keycloak.requests.length;
    expect((await work()).status).toBe(status);
    return keycloak.requests
      .slice(start)
      .filter((line) => !line.includes('/protocol/openid-connect/token'))
      .map((line) => line.replace(UUID, '{id}').replace(/clientId=[^&]+/, 'clientId={clientId}'));
  };
  const lookup = `GET ${clients}?clientId={clientId}&search=false`;
  const audience = (clientId: string, type: 'add_registration' | 'remove_registration') =>
    konnectEvent(clientId, { event_type: type, audience: 'https://orders.example.com' });

  it('creates in 1 call, 3 with one scope and 4 with more', async () => {
    expect(await calls(() => bridge.call('POST', '/', { body: konnectApplication() }), 201)).toEqual([`POST ${clients}`]);
    expect(await calls(() => bridge.call('POST', '/', { body: konnectApplication({ scopes: ['read:orders'] }) }), 201)).toEqual([
      'GET /admin/realms/customers/client-scopes',
      `POST ${clients}`,
      `PUT ${clients}/{id}/default-client-scopes/{id}`,
    ]);
    const several = await calls(
      () => bridge.call('POST', '/', { body: konnectApplication({ scopes: ['read:orders', 'write:orders', 'email'] }) }),
      201,
    );
    expect(several.slice(0, 3).sort()).toEqual([
      'GET /admin/realms/customers/client-scopes',
      'GET /admin/realms/customers/default-default-client-scopes',
      'GET /admin/realms/customers/default-optional-client-scopes',
    ]);
    expect(several.slice(3)).toEqual([`POST ${clients}`]);
  });

  /** Runs work on a bridge of its own whose adapter never saw the client, as after a restart. */
  const onFreshBridge = async <T>(work: (fresh: BridgeHarness) => Promise<T>): Promise<T> => {
    const fresh = await startBridge(adapterFor());
    try {
      return await work(fresh);
    } finally {
      await fresh.close();
    }
  };

  it('answers 404 for a remembered client deleted behind its back, and forgets it', async () => {
    const created = await bridge.call('POST', '/', { body: konnectApplication() });
    const clientId = created.body.client_id as string;
    await onFreshBridge((fresh) => fresh.call('DELETE', `/${clientId}`));
    expect(await calls(() => bridge.call('POST', `/${clientId}/new-secret`), 404)).toEqual([`GET ${clients}/{id}/client-secret`, lookup]);
    expect(await calls(() => bridge.call('POST', `/${clientId}/new-secret`), 404)).toEqual([lookup]);
  });

  it("removes an audience mapper an earlier version added under an id of Keycloak's, looking it up by name", async () => {
    const created = await bridge.call('POST', '/', { body: konnectApplication() });
    const clientId = created.body.client_id as string;
    const client = keycloak.clientByClientId(clientId)!;
    const adminToken = await fetch(`${keycloak.url}/realms/${keycloak.admin.realm}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${keycloak.admin.clientId}:${keycloak.admin.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    }).then(async (res) => ((await res.json()) as { access_token: string }).access_token);
    const legacyName = `dcr-bridge-audience-${createHash('sha256').update('https://orders.example.com').digest('hex').slice(0, 16)}`;
    const added = await fetch(`${keycloak.url}${clients}/${client.rep.id}/protocol-mappers/models`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: legacyName,
        protocol: 'openid-connect',
        protocolMapper: 'oidc-audience-mapper',
        config: { 'included.custom.audience': 'https://orders.example.com', 'access.token.claim': 'true' },
      }),
    });
    expect(added.status).toBe(201);
    expect(
      await calls(() => bridge.call('POST', `/${clientId}/event-hook`, { body: audience(clientId, 'remove_registration') }), 200),
    ).toEqual([
      `DELETE ${clients}/{id}/protocol-mappers/models/{id}`,
      `GET ${clients}/{id}/protocol-mappers/models`,
      `DELETE ${clients}/{id}/protocol-mappers/models/{id}`,
    ]);
    expect(client.mappers).toEqual([]);
  });
});

describe("rotation: Konnect's secret put back when Konnect did not get the new one (restore)", () => {
  it('puts it back with a PUT of the secret alone, and logs the client it did it for', async () => {
    const logger = createCapturingLogger();
    const rotating = adapterFor({ logger });
    // A rotation that failed may still land at Keycloak until this long after it started: settled again then.
    await rotating.recover?.({ inFlightMs: 1_000 });
    const local = await startBridge(rotating, { logger });
    try {
      const created = await local.call('POST', '/', { body: konnectApplication() });
      const clientId = created.body.client_id as string;
      const secret = created.body.client_secret as string;
      const start = keycloak.requests.length;
      // Keycloak generates the new secret, and its answer never reaches the bridge.
      keycloak.faults.faultNext('POST', /\/client-secret$/, 'processed_answer_lost');
      const res = await local.call('POST', `/${clientId}/new-secret`);
      expect(res.status).toBeGreaterThanOrEqual(500);
      await keycloak.faults.settle();
      await rotating.drained?.();
      expect(await keycloak.clientCredentials(clientId, secret), "Konnect's secret works again").toBeDefined();
      const calls = keycloak.requests.slice(start).filter((line) => !line.includes('/protocol/openid-connect/token'));
      // Konnect's secret read before the rotation, the rotation, then (core's settling) one write putting it back.
      expect(calls.slice(0, 2).map((line) => line.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/, '{id}'))).toEqual([
        'GET /admin/realms/customers/clients/{id}/client-secret',
        'POST /admin/realms/customers/clients/{id}/client-secret',
      ]);
      expect(calls.filter((line) => line.startsWith('PUT '))).toHaveLength(1);
      // The write carries nothing but the secret: it cannot undo a change of the redirect URIs made meanwhile.
      expect(keycloak.putFields(clientId)).toEqual([['secret']]);
      expect(logger.lines.find((line) => line.msg.startsWith('put back the secret Konnect holds'))).toMatchObject({
        level: 'warn',
        clientId,
      });
      expect(JSON.stringify(logger.lines)).not.toContain(secret);
    } finally {
      await local.close();
      await rotating.close?.();
    }
  });
});

// Client ids kept inside their path segment, one admin token for concurrent calls, 429s and refused admin
// credentials: the conformance suite's `idp plumbing` group (test/conformance.test.ts).
describe('the admin token', () => {
  it('is requested again once it expires (Keycloak admin tokens live 300 s)', async () => {
    const local = await startBridge(adapterFor());
    try {
      const before = keycloak.tokenRequests(keycloak.admin.clientId);
      const created = await local.call('POST', '/', { body: konnectApplication() });
      expect(created.status).toBe(201);
      expect(keycloak.tokenRequests(keycloak.admin.clientId) - before).toBe(1);
      keycloak.advanceClock(301);
      expect((await local.call('DELETE', `/${created.body.client_id}`)).status).toBe(204);
      expect(keycloak.tokenRequests(keycloak.admin.clientId) - before).toBe(2);
    } finally {
      await local.close();
    }
  });
});

describe('IdP failures', () => {
  it('reports a service account without manage-clients as a refused credential, never as "gone"', async () => {
    const created = await bridge.call('POST', '/', { body: konnectApplication() });
    keycloak.setAdminRoles([]);
    keycloak.advanceClock(301);
    const res = await bridge.call('DELETE', `/${created.body.client_id}`);
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('idp_error');
    expect(res.body.error_description).toContain(res.headers.get('x-request-id'));
    expect(keycloak.clientByClientId(created.body.client_id)).toBeDefined();
    // Roles travel in the admin token: the token issued without them must not outlive the test.
    keycloak.setAdminRoles(['manage-clients']);
    keycloak.advanceClock(301);
  });

  it('with a wrong admin client secret: the log line of the request names the admin client to check, and the bridge is not ready', async () => {
    const logger = createCapturingLogger();
    const wrong = await startBridge(adapterFor({ clientSecret: 'wrong-admin-secret' }), { logger });
    try {
      const res = await wrong.call('POST', '/', { body: konnectApplication() });
      expect(res.status).toBe(502);
      expect(res.body.error).toBe('idp_error');
      expect(res.body.error_description).not.toContain('dcr-bridge');
      const failed = logger.lines.find((line) => line.msg === 'adapter call failed');
      expect(failed).toMatchObject({ requestId: res.headers.get('x-request-id'), description: expect.stringContaining('"dcr-bridge"') });
      expect((await fetch(`${wrong.baseUrl}/readyz`)).status).toBe(503);
    } finally {
      await wrong.close();
    }
  });

  it("answers 502 when Keycloak cannot be reached, its URL only in the request's log line", async () => {
    const logger = createCapturingLogger();
    const down = await startBridge(
      createKeycloakAdapter({ baseUrl: 'http://127.0.0.1:1', realm: 'internal-realm', clientId: 'c', clientSecret: 's' }),
      { logger },
    );
    try {
      const res = await down.call('DELETE', '/x');
      expect(res.status).toBe(502);
      expect(res.body.error).toBe('idp_unavailable');
      expect(res.body.error_description).toMatch(/could not be reached.* request id [0-9a-f-]{36}\.$/);
      for (const internal of ['127.0.0.1', 'http', 'internal-realm', 'Keycloak'])
        expect(res.body.error_description).not.toContain(internal);
      const failed = logger.lines.find((line) => line.msg === 'adapter call failed');
      expect(failed).toMatchObject({
        requestId: res.headers.get('x-request-id'),
        description: expect.stringContaining('http://127.0.0.1:1'),
      });
    } finally {
      await down.close();
    }
  });
});

describe('readiness: the admin account must be able to write, not only read', () => {
  it('is not ready for a service account with view-clients only (every create would answer 403), and ready again with manage-clients', async () => {
    keycloak.setAdminRoles(['view-clients']);
    const readOnly = adapterFor();
    try {
      const start = keycloak.requests.length;
      const report = await readOnly.checkReady(operationContext());
      expect(report).toMatchObject({ ready: false, reason: 'idp_error', missingPermissions: ['permission: manage-clients'] });
      expect(report.detail).toContain('manage-clients');
      // The probe (one GET) and the permission check, which reads the admin token's roles: no more admin calls.
      expect(keycloak.requests.slice(start).filter((call) => !call.includes('/openid-connect/token'))).toEqual([
        `GET /admin/realms/${keycloak.realm}/clients?first=0&max=1`,
      ]);
      // What readiness foresaw: the create is refused.
      const refused = await startBridge(readOnly);
      try {
        const beforeCreate = keycloak.requests.length;
        expect((await refused.call('POST', '/', { body: konnectApplication() })).status).toBe(502);
        // Keycloak refused the create itself (a token request may come and go around it).
        expect(keycloak.requests.slice(beforeCreate)).toContain(`POST /admin/realms/${keycloak.realm}/clients`);
      } finally {
        await refused.close();
      }
    } finally {
      await readOnly.close?.();
      keycloak.setAdminRoles(['manage-clients']);
    }
    const writer = adapterFor();
    try {
      expect(await writer.checkReady(operationContext())).toEqual({ ready: true });
    } finally {
      await writer.close?.();
    }
  });
});

describe("Keycloak's own OpenAPI document (test/vendor)", () => {
  it('reports a misspelt field, a wrong type, an undescribed path and an undescribed answer field the fake sees', async () => {
    const api = createKeycloakApiDescription();
    const strict = await startFakeKeycloak({ api });
    try {
      const token = await fetch(`${strict.url}/realms/${strict.admin.realm}/protocol/openid-connect/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: strict.admin.clientId,
          client_secret: strict.admin.clientSecret,
        }),
      }).then(async (res) => ((await res.json()) as { access_token: string }).access_token);
      const send = (method: string, path: string, body?: unknown) =>
        fetch(`${strict.url}/admin/realms/${strict.realm}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      expect((await send('POST', '/clients', { clientId: 'typo', redirectUri: ['https://app.example.com/cb'] })).status).toBe(201);
      expect((await send('POST', '/clients', { clientId: 'wrong-type', attributes: { 'dcr-bridge.managed': true } })).status).toBe(201);
      await send('GET', '/clients/x/client-secret/rotated');
      expect(api.problems).toEqual([
        `POST /admin/realms/${strict.realm}/clients: request body: /redirectUri is not described`,
        `POST /admin/realms/${strict.realm}/clients: request body: /attributes/dcr-bridge.managed must be string`,
        `GET /admin/realms/${strict.realm}/clients/x/client-secret/rotated: no such path in ${api.name}`,
        `GET /admin/realms/${strict.realm}/clients/x/client-secret/rotated: no such path in ${api.name}`,
      ]);
      expect(() => api.expectNoProblems()).toThrow(/redirectUri is not described/);
      // An answer is checked too: a representation with a field ClientRepresentation does not have.
      expect(api.checkResponse('GET', `/admin/realms/${strict.realm}/clients`, 200, [{ clientId: 'a', secrt: 'x' }])).toEqual([
        `GET /admin/realms/${strict.realm}/clients: answer 200: /0/secrt is not described`,
      ]);
    } finally {
      await strict.close();
    }
  });
});

describe('settings', () => {
  it('reads the Keycloak settings', () => {
    expect(
      readAdapterOptions(dcrBridgeAdapter, {
        KEYCLOAK_URL: 'https://sso.example.com/auth',
        KEYCLOAK_REALM: 'customers',
        KEYCLOAK_CLIENT_ID: 'dcr-bridge',
        KEYCLOAK_CLIENT_SECRET: 's',
        KEYCLOAK_TOKEN_REALM: 'master',
      }),
    ).toEqual({
      baseUrl: 'https://sso.example.com/auth',
      realm: 'customers',
      clientId: 'dcr-bridge',
      clientSecret: 's',
      tokenRealm: 'master',
      timeoutMs: 30_000,
    });
  });

  it('refuses a plain http admin URL unless KEYCLOAK_ALLOW_INSECURE_HTTP=true says so', () => {
    const settings = {
      KEYCLOAK_URL: 'http://keycloak.internal:8080',
      KEYCLOAK_REALM: 'customers',
      KEYCLOAK_CLIENT_ID: 'c',
      KEYCLOAK_CLIENT_SECRET: 's',
    };
    expect(() => readAdapterOptions(dcrBridgeAdapter, settings)).toThrow(
      /KEYCLOAK_URL must be an https URL \(over http, admin credentials travel in clear; for an IdP on this machine or a private network, set KEYCLOAK_ALLOW_INSECURE_HTTP=true\)/,
    );
    expect(() => readAdapterOptions(dcrBridgeAdapter, settings)).not.toThrow(/keycloak\.internal/);
    expect(readAdapterOptions(dcrBridgeAdapter, { ...settings, KEYCLOAK_ALLOW_INSECURE_HTTP: 'true' })).toMatchObject({
      baseUrl: 'http://keycloak.internal:8080',
    });
  });

  it('lists every missing setting at once', () => {
    expect(() => readAdapterOptions(dcrBridgeAdapter, { KEYCLOAK_URL: 'not a url' })).toThrow(
      'Invalid keycloak settings:\n- KEYCLOAK_URL must be an absolute URL such as https://idp.example.com (its value is not repeated here, as a URL may hold a password).\n- KEYCLOAK_REALM is required.\n- KEYCLOAK_CLIENT_ID is required.\n- KEYCLOAK_CLIENT_SECRET is required.',
    );
  });
});
