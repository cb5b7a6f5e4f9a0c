import { type AdapterDiagnostics, type DcrAdapter, settingNamesOf } from '@dcr-bridge/core';
import { konnectApplication, operationContext, startBridge } from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeycloakAdapter } from '../src/index.js';
import { dcrBridgeAdapter } from '../src/module.js';
import { startFakeKeycloak, type FakeKeycloak } from './fake-keycloak.js';

/** The doctor runs on the adapter the server builds from its settings: its fixes name them. */
const settingNames = settingNamesOf(dcrBridgeAdapter.settings);

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
    settingNames,
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
  afterAll(async () => {
    await keycloak.close();
    keycloak.api.expectNoProblems();
  });

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
    // Readiness runs the same read-only checks (core, cached 60 s): a pod whose admin may only read stays out of the Service.
    expect(ready).toMatchObject({ ready: false, reason: 'idp_error', missingPermissions: ['permission: manage-clients'] });
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
  afterAll(async () => {
    await keycloak.close();
    keycloak.api.expectNoProblems();
  });

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
      settingNames,
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

/** idpVersion by a fresh adapter, and the Keycloak calls it made besides the admin token. */
async function versionOf(keycloak: FakeKeycloak) {
  const adapter = createKeycloakAdapter({
    settingNames,
    baseUrl: keycloak.url,
    realm: keycloak.realm,
    tokenRealm: keycloak.admin.realm,
    clientId: keycloak.admin.clientId,
    clientSecret: keycloak.admin.clientSecret,
  });
  const start = keycloak.requests.length;
  const found = await diagnosticsOf(adapter).idpVersion!(context);
  const calls = keycloak.requests.slice(start).filter((call) => !TOKEN_REQUEST.test(call));
  await adapter.close?.();
  return { found, calls };
}

describe.each([
  // [Keycloak version the fake models, realm of the admin client, its roles, the version doctor sees, within 24 – 26]
  { version: '26.6.0', adminRealm: 'master', roles: ['manage-clients'], seen: '26.6.0', within: true },
  { version: '26.6.0', adminRealm: 'customers', roles: ['manage-clients'], seen: undefined, within: undefined },
  { version: '26.6.0', adminRealm: 'customers', roles: ['manage-clients', 'manage-realm'], seen: '26.6.0', within: true },
  { version: '26.5.2', adminRealm: 'customers', roles: ['manage-clients', 'manage-realm'], seen: undefined, within: undefined },
  { version: '26.3.5', adminRealm: 'customers', roles: ['manage-clients'], seen: '26.3.5', within: true },
  { version: '24.0.5', adminRealm: 'customers', roles: ['manage-clients'], seen: '24.0.5', within: true },
  { version: '23.0.7', adminRealm: 'master', roles: ['manage-clients'], seen: '23.0.7', within: false },
  { version: '27.0.0', adminRealm: 'master', roles: ['manage-clients'], seen: '27.0.0', within: false },
])('doctor names Keycloak $version (admin client in $adminRealm, roles $roles)', ({ version, adminRealm, roles, seen, within }) => {
  let keycloak: FakeKeycloak;
  beforeAll(async () => {
    keycloak = await startFakeKeycloak({ version, adminRealm, pathPrefix: '/auth' });
    keycloak.setAdminRoles(roles);
  });
  afterAll(async () => {
    await keycloak.close();
    keycloak.api.expectNoProblems();
  });

  it(`reads ${seen ?? 'no version'} with one GET /admin/serverinfo${within === false ? ', outside the supported range' : ''}`, async () => {
    const { found, calls } = await versionOf(keycloak);
    expect(calls).toEqual(['GET /auth/admin/serverinfo']);
    expect(found).toEqual({
      product: 'Keycloak',
      supported: '24 – 26',
      ...(seen === undefined ? {} : { version: seen, withinSupported: within }),
      detail:
        seen === undefined
          ? expect.stringContaining('only to administrators of the master realm')
          : 'systemInfo.version of GET /admin/serverinfo',
    });
  });
});

describe('doctor, Keycloak version, edge cases', () => {
  let keycloak: FakeKeycloak;
  beforeAll(async () => {
    keycloak = await startFakeKeycloak({ version: '26.2.5.redhat-00001' });
  });
  afterAll(async () => {
    await keycloak.close();
    keycloak.api.expectNoProblems();
  });

  it("reads a build's qualified version (Red Hat build of Keycloak) as its major", async () => {
    keycloak.setAdminRoles(['manage-clients']);
    expect((await versionOf(keycloak)).found).toMatchObject({ version: '26.2.5.redhat-00001', withinSupported: true });
  });

  it('says so, without a version, when the admin token may not read the server info (no admin role)', async () => {
    keycloak.setAdminRoles([]);
    expect((await versionOf(keycloak)).found).toEqual({
      product: 'Keycloak',
      supported: '24 – 26',
      detail: 'GET /admin/serverinfo answered 403: the admin token may not read the server info',
    });
  });
});

describe('doctor, the admin credentials and the realms they name: one cause, one check, its fix', () => {
  let keycloak: FakeKeycloak;
  let inRealm: FakeKeycloak;
  beforeAll(async () => {
    keycloak = await startFakeKeycloak(); // the bridge's client in master (KEYCLOAK_TOKEN_REALM=master)
    inRealm = await startFakeKeycloak({ adminRealm: 'customers' }); // the bridge's client in the realm itself
  });
  afterAll(async () => {
    await Promise.all([keycloak.close(), inRealm.close()]);
    keycloak.api.expectNoProblems();
    inRealm.api.expectNoProblems();
  });

  async function credentialsOf(fake: FakeKeycloak, overrides: { realm?: string; tokenRealm?: string; clientSecret?: string }) {
    const adapter = createKeycloakAdapter({
      settingNames,
      baseUrl: fake.url,
      realm: fake.realm,
      tokenRealm: fake.admin.realm,
      clientId: fake.admin.clientId,
      clientSecret: fake.admin.clientSecret,
      ...overrides,
    });
    try {
      const start = fake.requests.length;
      const checks = await diagnosticsOf(adapter).checkCredentials!(context);
      return { checks, calls: fake.requests.slice(start) };
    } finally {
      await adapter.close?.();
    }
  }

  it('passes with an admin token and the realm found', async () => {
    const { checks, calls } = await credentialsOf(keycloak, {});
    expect(checks).toEqual([
      { name: 'admin credentials', result: 'pass', detail: 'Keycloak issued client dcr-bridge of realm master an admin token.' },
      { name: 'realm customers', result: 'pass', detail: 'Its admin API answered 200.' },
    ]);
    expect(calls.filter((call) => WRITES.test(call) && !TOKEN_REQUEST.test(call))).toEqual([]);
  });

  it('says that KEYCLOAK_REALM names no realm when the token comes from it (404 Realm does not exist), not to check the client secret', async () => {
    const { checks } = await credentialsOf(inRealm, { realm: 'custmers', tokenRealm: undefined });
    expect(checks).toEqual([
      {
        name: 'realm custmers',
        result: 'fail',
        detail: expect.stringContaining('Realm does not exist'),
        fix: `Check KEYCLOAK_REALM: Keycloak at ${inRealm.url} has no realm "custmers" (realm names are case-sensitive). If the bridge's client lives in another realm (master), set KEYCLOAK_TOKEN_REALM to it.`,
      },
    ]);
  });

  it('says that KEYCLOAK_REALM names no realm when the token comes from master (the admin API answers 404 Realm not found.)', async () => {
    const { checks } = await credentialsOf(keycloak, { realm: 'custmers' });
    expect(checks).toEqual([
      expect.objectContaining({ name: 'admin credentials', result: 'pass' }),
      {
        name: 'realm custmers',
        result: 'fail',
        detail: expect.stringContaining('Realm not found.'),
        fix: `Check KEYCLOAK_REALM, the realm the bridge creates clients in: Keycloak at ${keycloak.url} has no realm "custmers" (realm names are case-sensitive).`,
      },
    ]);
  });

  it('says that KEYCLOAK_TOKEN_REALM names no realm', async () => {
    const { checks } = await credentialsOf(keycloak, { tokenRealm: 'mastr' });
    expect(checks).toEqual([
      expect.objectContaining({
        name: 'realm mastr',
        result: 'fail',
        fix: expect.stringMatching(/^Check KEYCLOAK_TOKEN_REALM, .* no realm "mastr"/),
      }),
    ]);
  });

  it('names the client settings, once, when the credentials are refused', async () => {
    const { checks } = await credentialsOf(keycloak, { clientSecret: 'not-the-secret-at-all' });
    expect(checks).toEqual([
      {
        name: 'admin credentials',
        result: 'fail',
        detail: expect.stringContaining('unauthorized_client'),
        fix: expect.stringContaining('check KEYCLOAK_CLIENT_ID and KEYCLOAK_CLIENT_SECRET'),
      },
    ]);
    expect(JSON.stringify(checks)).not.toContain('not-the-secret-at-all');
  });
});
