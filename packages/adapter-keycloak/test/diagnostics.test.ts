import { type AdapterDiagnostics, type DcrAdapter } from '@dcr-bridge/core';
import { konnectApplication, operationContext, startBridge } from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeycloakAdapter } from '../src/index.js';
import { startFakeKeycloak, type FakeKeycloak } from './fake-keycloak.js';

const context = operationContext();
const WRITES = /^(POST|PUT|PATCH|DELETE) /;
const TOKEN_REQUEST = /^POST \S*\/protocol\/openid-connect\/token$/;

function diagnosticsOf(adapter: DcrAdapter): AdapterDiagnostics {
  if (!adapter.diagnostics) throw new Error('the adapter has no diagnostics');
  return adapter.diagnostics;
}

/** The checks, run by a fresh adapter (a new admin token, with the roles the service account has now), and the Keycloak calls they made. */
async function doctor(keycloak: FakeKeycloak, overrides: { clientSecret?: string } = {}) {
  const adapter = createKeycloakAdapter({
    baseUrl: keycloak.url,
    realm: keycloak.realm,
    tokenRealm: keycloak.admin.realm,
    clientId: keycloak.admin.clientId,
    clientSecret: keycloak.admin.clientSecret,
    ...overrides,
  });
  const start = keycloak.requests.length;
  const checks = await diagnosticsOf(adapter).checkPermissions(context);
  const calls = keycloak.requests.slice(start);
  const ready = await adapter.checkReady(context);
  await adapter.close?.();
  return { checks, calls, ready, byName: (name: string) => checks.find((check) => check.name === name) };
}

describe.each([
  {
    setup: 'admin client in master, /auth prefix',
    options: { adminRealm: 'master', pathPrefix: '/auth' },
    managementClient: 'customers-realm',
  },
  { setup: 'admin client in the target realm', options: { adminRealm: 'customers' }, managementClient: 'realm-management' },
])('doctor, $setup', ({ options, managementClient }) => {
  let keycloak: FakeKeycloak;
  beforeAll(async () => {
    keycloak = await startFakeKeycloak(options);
  });
  afterAll(() => keycloak.close());

  it('passes every check with manage-clients, seen in the admin token, without a write', async () => {
    keycloak.setAdminRoles(['manage-clients']);
    const { checks, calls, ready } = await doctor(keycloak);
    expect(keycloak.managementClient).toBe(managementClient);
    expect(checks).toEqual([
      { name: 'permission: manage-clients', result: 'pass', detail: expect.stringContaining(`${managementClient} roles: manage-clients`) },
      { name: 'permission: view-clients', result: 'pass', detail: expect.stringContaining('Granted through manage-clients') },
    ]);
    expect(calls.filter((call) => WRITES.test(call) && !TOKEN_REQUEST.test(call))).toEqual([]);
    expect(ready.ready).toBe(true);
  });

  it('sees the roles a composite role grants (Keycloak expands them into the token)', async () => {
    keycloak.setAdminRoles([managementClient === 'realm-management' ? 'realm-admin' : 'admin']);
    const { checks } = await doctor(keycloak);
    expect(checks.map((check) => check.result)).toEqual(['pass', 'pass']);
  });

  it('finds a missing manage-clients read-only, and names the role to assign and where', async () => {
    keycloak.setAdminRoles(['view-clients']);
    const { byName, calls, ready } = await doctor(keycloak);
    expect(byName('permission: manage-clients')).toEqual({
      name: 'permission: manage-clients',
      result: 'fail',
      detail: expect.stringContaining(`${managementClient} roles: query-clients, view-clients`),
      fix: `In realm ${keycloak.admin.realm}, open client ${keycloak.admin.clientId} → Service account roles → Assign role → Filter by clients, and assign ${managementClient} manage-clients.`,
    });
    expect(byName('permission: view-clients')?.result).toBe('pass');
    expect(calls.filter((call) => WRITES.test(call) && !TOKEN_REQUEST.test(call))).toEqual([]);
    // Readiness only reads, so it cannot see this: the doctor's permission checks are what find it.
    expect(ready.ready).toBe(true);
  });

  it('fails both checks for a service account without admin roles', async () => {
    keycloak.setAdminRoles([]);
    const { checks, ready } = await doctor(keycloak);
    expect(checks).toEqual([
      expect.objectContaining({
        name: 'permission: manage-clients',
        result: 'fail',
        fix: expect.stringContaining(`${managementClient} manage-clients`),
      }),
      expect.objectContaining({
        name: 'permission: view-clients',
        result: 'fail',
        detail: expect.stringContaining('roles: none'),
        fix: expect.stringContaining(`${managementClient} manage-clients`),
      }),
    ]);
    expect(ready).toMatchObject({ ready: false, reason: 'idp_error' });
  });
});

describe('doctor, edge cases', () => {
  let keycloak: FakeKeycloak;
  beforeAll(async () => {
    keycloak = await startFakeKeycloak({ pathPrefix: '/auth' });
  });
  afterAll(() => keycloak.close());

  it('fails every check when the admin credentials are refused, with the settings to check and no secret', async () => {
    const wrongSecret = 'not-the-secret-at-all';
    const { checks, ready } = await doctor(keycloak, { clientSecret: wrongSecret });
    expect(checks).toHaveLength(2);
    for (const check of checks) {
      expect(check).toMatchObject({
        result: 'fail',
        detail: expect.stringContaining('No admin token'),
        fix: expect.stringContaining('KEYCLOAK_CLIENT_SECRET'),
      });
      expect(JSON.stringify(check)).not.toContain(wrongSecret);
    }
    expect(ready.ready).toBe(false);
  });

  it('with a lightweight admin token, proves reading with a GET and leaves managing to --write-test', async () => {
    keycloak.setLightweightAdminTokens(true);
    try {
      const { checks, calls } = await doctor(keycloak);
      expect(checks).toEqual([
        { name: 'permission: manage-clients', result: 'skip', detail: expect.stringContaining('--write-test') },
        { name: 'permission: view-clients', result: 'pass', detail: 'GET answered 200' },
      ]);
      expect(calls).toContain('GET /auth/admin/realms/customers/clients?first=0&max=1');
      expect(calls.filter((call) => WRITES.test(call) && !TOKEN_REQUEST.test(call))).toEqual([]);
    } finally {
      keycloak.setLightweightAdminTokens(false);
    }
  });

  it('reports the configured admin URL, and a token endpoint where a client the bridge created gets a token', async () => {
    const adapter = createKeycloakAdapter({
      baseUrl: keycloak.url,
      realm: keycloak.realm,
      tokenRealm: keycloak.admin.realm,
      clientId: keycloak.admin.clientId,
      clientSecret: keycloak.admin.clientSecret,
    });
    const bridge = await startBridge(adapter);
    try {
      const diagnostics = diagnosticsOf(adapter);
      expect(diagnostics.adminUrl).toBe(keycloak.url);
      const tokenEndpoint = await diagnostics.tokenEndpoint(context);
      expect(tokenEndpoint).toBe(`${keycloak.url}/realms/customers/protocol/openid-connect/token`);
      const created = await bridge.call('POST', '/', { body: konnectApplication({ grant_types: ['client_credentials'] }) });
      expect(created.status).toBe(201);
      const answer = await fetch(tokenEndpoint, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: created.body.client_id,
          client_secret: created.body.client_secret,
        }),
      });
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ access_token: expect.any(String), token_type: 'Bearer' });
    } finally {
      await bridge.close();
    }
  });
});
