import {
  JOURNAL_PREFIX,
  createJsonStore,
  createMemoryDriver,
  readAdapterOptions,
  type JournalEntry,
  type StateStore,
} from '@dcr-bridge/core';
import { parseRegistration } from '@dcr-bridge/core/http';
import {
  type BridgeHarness,
  createApiDescription,
  konnectApplication,
  konnectEvent,
  operationContext,
  startBridge,
} from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createZitadelAdapter, dcrBridgeAdapter } from '../src/index.js';
import { startFakeZitadel, zitadelDocument, type FakeZitadel, type FakeZitadelOptions } from './fake-zitadel.js';

const SERVICE = '/zitadel.application.v2.ApplicationService';
let idp: FakeZitadel;
let bridge: BridgeHarness;
let adapter: ReturnType<typeof createZitadelAdapter>;
const adapterOn = (journal?: StateStore, apiToken = idp.apiToken) =>
  createZitadelAdapter({ baseUrl: idp.url, projectId: idp.projectId, organizationId: idp.organizationId, apiToken, journal });
/** The context core gives an adapter call; `answered` is what Konnect's connection did with the answer. */
const operation = (answered: Promise<boolean>) => operationContext({ answered });
/** A registration ZITADEL can serve: an OIDC web application for the authorization code flow. */
const application = (overrides: Record<string, unknown> = {}) =>
  konnectApplication({ grant_types: ['authorization_code'], redirect_uris: ['https://app.example.com/cb'], ...overrides });

beforeAll(async () => {
  idp = await startFakeZitadel();
  adapter = adapterOn();
  bridge = await startBridge(adapter);
});
afterAll(async () => {
  await bridge.close();
  await adapter.close?.();
  await idp.close();
  // Every request the adapter sent and every answer the fake gave, as ZITADEL's protos describe them.
  idp.api.expectNoProblems();
});

describe("ZITADEL's API description (test/vendor)", () => {
  it('reports a misspelt field, a wrong type, an unknown method and a missing required field', () => {
    const api = createApiDescription({ name: 'ZITADEL', document: zitadelDocument });
    expect(
      api.checkRequest('POST', '/zitadel.user.v2.UserService/SetUserMetadata', { userId: '1', metaData: [{ key: 'k', value: 'W10=' }] }),
    ).toEqual(['POST /zitadel.user.v2.UserService/SetUserMetadata: request body: /metaData is not described']);
    expect(api.checkRequest('POST', '/zitadel.application.v2.ApplicationService/ListApplications', { pagination: { limit: '1' } })).toEqual(
      [expect.stringContaining('/pagination/limit must be integer')],
    );
    expect(api.checkRequest('POST', '/zitadel.application.v2.ApplicationService/ListApps', {})).toEqual([
      expect.stringContaining('no such path'),
    ]);
    expect(api.checkRequest('POST', '/zitadel.application.v2.ApplicationService/DeleteApplication', { applicationId: '1' })).toEqual([
      expect.stringContaining("must have required property 'projectId'"),
    ]);
    expect(api.problems).toHaveLength(4);
  });
});

describe('create', () => {
  it('creates an OIDC application whose id carries the marker and the nonce, and whose credentials work', async () => {
    const res = await bridge.call('POST', '/', { body: application({ client_name: 'Orders App', scopes: ['openid', 'email'] }) });
    expect(res.status).toBe(201);
    const created = idp.client(res.body.client_id);
    expect(created?.name).toMatch(/^orders-app-[a-z0-9]{8}$/);
    expect(created?.applicationId).toBe(`dcr-bridge-${created?.name.slice(-8)}`);
    expect(created).toMatchObject({
      projectId: idp.projectId,
      grantTypes: ['OIDC_GRANT_TYPE_AUTHORIZATION_CODE'],
      authMethodType: 'OIDC_AUTH_METHOD_TYPE_POST',
      redirectUris: ['https://app.example.com/cb'],
    });
    expect(await idp.clientCredentials(res.body.client_id, res.body.client_secret)).toBe(true);
  });

  it('maps client_secret_basic to ZITADEL BASIC authentication', async () => {
    const res = await bridge.call('POST', '/', { body: application({ token_endpoint_auth_method: 'client_secret_basic' }) });
    expect(idp.client(res.body.client_id)?.authMethodType).toBe('OIDC_AUTH_METHOD_TYPE_BASIC');
    expect(await idp.clientCredentials(res.body.client_id, res.body.client_secret)).toBe(true);
  });

  it.each([
    [{ token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata', '"private_key_jwt"'],
    [{ grant_types: ['client_credentials', 'authorization_code'] }, 'invalid_client_metadata', 'never both'],
    [{ scopes: ['read:orders'] }, 'invalid_scope', '"read:orders"'],
  ])('refuses %j before any call, creating nothing', async (overrides, error, named) => {
    const start = idp.requests.length;
    const res = await bridge.call('POST', '/', { body: application(overrides) });
    expect(res.body).toEqual({ error, error_description: expect.stringContaining(named) });
    expect(idp.requests.slice(start)).toEqual([]);
  });

  it("turns ZITADEL's invalid_argument into a 400 (its reason stays in the log)", async () => {
    idp.failNext('POST', new RegExp(`^${SERVICE}/CreateApplication$`), 400, {
      code: 'invalid_argument',
      message: 'Errors.Project.App.OIDCConfigInvalid: redirect URI not allowed',
    });
    const res = await bridge.call('POST', '/', { body: application() });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_redirect_uri', error_description: expect.stringContaining('refused the redirect URIs') });
    expect(res.body.error_description).not.toContain('OIDCConfigInvalid');
  });
});

describe('client_credentials: a service user', () => {
  const machineApplication = (overrides: Record<string, unknown> = {}) =>
    konnectApplication({ grant_types: ['client_credentials'], ...overrides });
  const USERS = '/zitadel.user.v2.UserService';
  const calls = async (work: () => Promise<unknown>) => {
    const start = idp.requests.length;
    await work();
    return idp.requests.slice(start).map((line) => line.replace(USERS, '').replace(SERVICE, ''));
  };

  it('creates a service user of the organization, named by its id, whose client_credentials token works', async () => {
    // Konnect sends redirect URIs with client_credentials applications too: kept in the user's metadata.
    const res = await bridge.call('POST', '/', {
      body: machineApplication({ client_name: 'Billing Sync', redirect_uris: ['https://app.example.com/cb'] }),
    });
    expect(res.status).toBe(201);
    const user = idp.machineUser(res.body.client_id);
    expect(user?.name).toMatch(/^billing-sync-[a-z0-9]{8}$/);
    expect(user).toMatchObject({
      userId: `dcr-bridge-${user?.name.slice(-8)}`,
      username: `dcr-bridge-${user?.name.slice(-8)}`,
      organizationId: idp.organizationId,
      description: expect.stringContaining('dcr-bridge'),
    });
    expect(idp.client(res.body.client_id)).toBeUndefined();
    expect(await idp.redirectUris(res.body.client_id)).toEqual(['https://app.example.com/cb']);
    expect(await idp.clientCredentials(res.body.client_id, res.body.client_secret)).toBe(true);
    expect(await idp.clientCredentials(res.body.client_id, `${res.body.client_secret}x`)).toBe(false);
  });

  it('keeps no metadata for a registration without redirect URIs, and an update to none replaces them with none', async () => {
    let clientId = '';
    expect(
      await calls(async () => {
        clientId = (await bridge.call('POST', '/', { body: machineApplication({ redirect_uris: [] }) })).body.client_id as string;
      }),
    ).toEqual(['POST /CreateUser', 'POST /AddSecret']);
    expect(await idp.redirectUris(clientId)).toEqual([]);
    const set = konnectEvent(clientId, {
      event_type: 'update_application',
      redirect_uris: ['https://a.example.com/cb', 'https://b.example.com/cb'],
    });
    expect((await bridge.call('POST', `/${clientId}/event-hook`, { body: set })).status).toBe(200);
    expect(await idp.redirectUris(clientId)).toEqual(['https://a.example.com/cb', 'https://b.example.com/cb']);
    const clear = konnectEvent(clientId, { event_type: 'update_application', redirect_uris: [] });
    expect(
      await calls(async () => expect((await bridge.call('POST', `/${clientId}/event-hook`, { body: clear })).status).toBe(200)),
    ).toEqual(['POST /SetUserMetadata']);
    expect(await idp.redirectUris(clientId)).toEqual([]);
  });

  it('refuses a service user it did not create, found by its username, and leaves it as it is', async () => {
    const foreign = idp.createForeignMachineUser();
    const res = await bridge.call('POST', `/${foreign}/new-secret`);
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('client_not_managed');
    expect(await idp.clientCredentials(foreign, 'foreign-secret')).toBe(true);
  });

  it('recover() finds by its nonce a service user whose id never reached the journal', async () => {
    const journal = createJsonStore(createMemoryDriver());
    const created = await adapterOn(journal).createClient(parseRegistration(machineApplication({ client_name: 'Lost machine' })), {
      ...operation(new Promise(() => {})),
      deadline: AbortSignal.timeout(0),
    });
    const [key, entry] = (await journal.list<JournalEntry>(JOURNAL_PREFIX))[0] as [string, JournalEntry];
    await journal.set(key, { nonce: entry.nonce, clientName: entry.clientName, startedAt: entry.startedAt });
    const restarted = adapterOn(journal);
    expect(await restarted.recover?.({ inFlightMs: 0 })).toEqual({
      open: 1,
      undone: 1,
      neverCreated: 0,
      unresolved: 0,
      kept: 0,
      rotations: 0,
    });
    expect(idp.machineUser(created.clientId)).toBeUndefined();
    await restarted.close?.();
  });

  it("gets a client_credentials token from the doctor's token endpoint, as --write-test does", async () => {
    const created = await bridge.call('POST', '/', { body: machineApplication() });
    const tokenEndpoint = await adapter.diagnostics?.tokenEndpoint(operation(Promise.resolve(true)));
    const res = await fetch(String(tokenEndpoint), {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: created.body.client_id,
        client_secret: created.body.client_secret,
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ access_token: expect.any(String), token_type: 'Bearer' });
  });
});

describe('update_application', () => {
  it('refuses to clear the redirect URIs, which ZITADEL would leave unchanged, and changes nothing', async () => {
    const created = await bridge.call('POST', '/', { body: application() });
    const start = idp.requests.length;
    const res = await bridge.call('POST', `/${created.body.client_id}/event-hook`, {
      body: konnectEvent(created.body.client_id, { event_type: 'update_application', redirect_uris: [] }),
    });
    expect(res.body).toEqual({ error: 'invalid_redirect_uri', error_description: expect.stringContaining('at least one') });
    expect(idp.requests.slice(start)).toEqual([]);
    expect(idp.client(created.body.client_id)?.redirectUris).toEqual(['https://app.example.com/cb']);
  });
});

describe('IdP failures', () => {
  it('answers 503 with Retry-After when ZITADEL rate-limits a create', async () => {
    idp.failNext(
      'POST',
      new RegExp(`^${SERVICE}/CreateApplication$`),
      429,
      { code: 'resource_exhausted', message: 'quota exceeded' },
      {
        'retry-after': '12',
      },
    );
    const res = await bridge.call('POST', '/', { body: application() });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('12');
  });

  it('answers 502 for a refused token, without the token, and is not ready', async () => {
    const refused = adapterOn(undefined, 'wrong-token');
    const wrong = await startBridge(refused);
    try {
      const res = await wrong.call('DELETE', '/some-client');
      expect(res.status).toBe(502);
      expect(JSON.stringify(res.body)).not.toContain('wrong-token');
      expect(await refused.checkReady(operation(Promise.resolve(true)))).toMatchObject({ ready: false, reason: 'idp_error' });
      expect((await adapter.checkReady(operation(Promise.resolve(true)))).ready).toBe(true);
    } finally {
      await wrong.close();
    }
  });
});

describe('diagnostics', () => {
  it("passes the read check, and the writes from the account's own roles (one ListMyMemberships)", async () => {
    const start = idp.requests.length;
    const checks = await adapter.diagnostics?.checkPermissions(operation(Promise.resolve(true)));
    expect(checks?.map(({ name, result }) => ({ name, result }))).toEqual([
      { name: 'permission: project.app.read', result: 'pass' },
      { name: 'permission: project.app.write, project.app.delete', result: 'pass' },
      { name: 'permission: user.read, user.write, user.delete', result: 'pass' },
    ]);
    expect(idp.requests.slice(start)).toEqual([`POST ${SERVICE}/ListApplications`, 'POST /auth/v1/memberships/me/_search']);
    expect(await adapter.diagnostics?.tokenEndpoint(operation(Promise.resolve(true)))).toBe(`${idp.url}/oauth/v2/token`);
  });

  it('fails the writes of a read-only admin (viewer roles), and readiness says not ready', async () => {
    const readOnly = adapterOn(undefined, idp.readOnlyToken);
    const checks = await readOnly.diagnostics?.checkPermissions(operation(Promise.resolve(true)));
    expect(checks?.map(({ result }) => result)).toEqual(['pass', 'fail', 'fail']);
    expect(checks?.[1]?.fix).toContain('PROJECT_OWNER');
    expect(checks?.[2]?.fix).toContain('ORG_USER_MANAGER');
    expect(await readOnly.checkReady(operation(Promise.resolve(true)))).toMatchObject({
      ready: false,
      reason: 'idp_error',
      missingPermissions: ['permission: project.app.write, project.app.delete', 'permission: user.read, user.write, user.delete'],
    });
    expect(await adapter.checkReady(operation(Promise.resolve(true)))).toEqual({ ready: true });
    await readOnly.close?.();
  });

  it('fails the read check of a user without a project role, with a fix', async () => {
    const withoutRole = adapterOn(undefined, idp.tokenWithoutRole);
    const [read] = (await withoutRole.diagnostics?.checkPermissions(operation(Promise.resolve(true)))) ?? [];
    expect(read).toMatchObject({ result: 'fail', fix: expect.stringContaining('PROJECT_OWNER') });
    expect(read?.detail).not.toContain(idp.tokenWithoutRole);
    await withoutRole.close?.();
  });
});

describe('lifecycle (core)', () => {
  it('costs ZITADEL the calls of the README table: one per operation on a client this process remembers', async () => {
    await adapter.drained?.();
    const calls = async (work: () => Promise<unknown>) => {
      const start = idp.requests.length;
      await work();
      return idp.requests.slice(start).map((line) => line.replace(SERVICE, ''));
    };
    const event = (clientId: string, body: Parameters<typeof konnectEvent>[1]) =>
      bridge.call('POST', `/${clientId}/event-hook`, { body: konnectEvent(clientId, body) });
    let clientId = '';
    expect(await calls(async () => (clientId = (await bridge.call('POST', '/', { body: application() })).body.client_id))).toEqual([
      'POST /CreateApplication',
    ]);
    expect(await calls(() => bridge.call('POST', `/${clientId}/new-secret`))).toEqual(['POST /GenerateClientSecret']);
    expect(
      await calls(() => event(clientId, { event_type: 'update_application', redirect_uris: ['https://app.example.com/cb2'] })),
    ).toEqual(['POST /UpdateApplication']);
    expect(await calls(() => event(clientId, { event_type: 'add_registration', audience: 'https://api.example.com' }))).toEqual([]);
    expect(await calls(() => event(clientId, { event_type: 'remove_registration', audience: 'https://api.example.com' }))).toEqual([]);
    expect(await calls(() => bridge.call('DELETE', `/${clientId}`))).toEqual(['POST /DeleteApplication']);

    // Cold, as after a restart: another adapter finds the client by listing the project (one page of 100 here).
    const other = await bridge.call('POST', '/', { body: application() });
    const restarted = await startBridge(adapterOn(createJsonStore(createMemoryDriver())));
    try {
      const id = other.body.client_id as string;
      expect(await calls(() => restarted.call('POST', `/${id}/new-secret`))).toEqual([
        'POST /ListApplications',
        'POST /GenerateClientSecret',
      ]);
      expect(await calls(() => restarted.call('DELETE', `/${id}`))).toEqual(['POST /DeleteApplication']);
    } finally {
      await restarted.close();
    }
  });
});

describe('settings', () => {
  it('reads the ZITADEL settings', () => {
    expect(
      readAdapterOptions(dcrBridgeAdapter, {
        ZITADEL_URL: 'https://my-instance.zitadel.cloud',
        ZITADEL_PROJECT_ID: '69629023906488334',
        ZITADEL_ORGANIZATION_ID: '69629012906488334',
        ZITADEL_API_TOKEN: 'token',
      }),
    ).toEqual({
      baseUrl: 'https://my-instance.zitadel.cloud',
      projectId: '69629023906488334',
      organizationId: '69629012906488334',
      apiToken: 'token',
      timeoutMs: 30_000,
    });
  });

  it('lists every missing setting at once', () => {
    expect(() => readAdapterOptions(dcrBridgeAdapter, {})).toThrow(
      'Invalid zitadel settings:\n- ZITADEL_URL is required.\n- ZITADEL_PROJECT_ID is required.\n- ZITADEL_ORGANIZATION_ID is required.\n- ZITADEL_API_TOKEN is required.',
    );
  });
});

describe('settings: admin traffic over plain http', () => {
  const settings = {
    ZITADEL_URL: 'http://zitadel.internal:8080',
    ZITADEL_PROJECT_ID: '69629023906488334',
    ZITADEL_ORGANIZATION_ID: '69629012906488334',
    ZITADEL_API_TOKEN: 'token',
  };

  it('refuses an http ZITADEL_URL unless ZITADEL_ALLOW_INSECURE_HTTP=true', () => {
    expect(() => readAdapterOptions(dcrBridgeAdapter, settings)).toThrow('ZITADEL_URL');
    expect(readAdapterOptions(dcrBridgeAdapter, { ...settings, ZITADEL_ALLOW_INSECURE_HTTP: 'true' })).toMatchObject({
      baseUrl: 'http://zitadel.internal:8080',
    });
  });
});

/** A fake of one ZITADEL generation, and an adapter and bridge on it, for the tests below. */
async function onGeneration(
  options: FakeZitadelOptions,
  work: (idp: FakeZitadel, adapter: ReturnType<typeof createZitadelAdapter>) => Promise<void>,
) {
  const fake = await startFakeZitadel(options);
  const on = createZitadelAdapter({
    baseUrl: fake.url,
    projectId: fake.projectId,
    organizationId: fake.organizationId,
    apiToken: fake.apiToken,
  });
  try {
    await work(fake, on);
  } finally {
    await on.close?.();
    await fake.close();
  }
  fake.api.expectNoProblems();
}

describe('doctor: the IdP version', () => {
  const context = () => operation(Promise.resolve(true));

  it.each([
    ['v4.11.0', true],
    ['v4.5.0', true],
    ['v4.4.2', false],
    ['v3.4.0', false],
    ['v5.0.0', false],
  ])('reads %s from GetInstance when the token may read the instance (within the range: %s)', async (version, within) => {
    await onGeneration({ version, tokenReadsInstance: true }, async (_, on) => {
      expect(await on.diagnostics?.idpVersion?.(context())).toEqual({
        product: 'ZITADEL',
        version,
        supported: 'v4.5.0 – v4.x',
        withinSupported: within,
        detail: 'InstanceService GetInstance',
      });
    });
  });

  it.each([
    ['current', 'filters by client id'],
    ['v4.5', 'has no client id filter'],
  ] as const)('tells the %s API generation when the token may not read the instance (least privilege)', async (generation, told) => {
    await onGeneration({ generation }, async (fake, on) => {
      const start = fake.requests.length;
      const found = await on.diagnostics?.idpVersion?.(context());
      expect(found).toEqual({ product: 'ZITADEL', supported: 'v4.5.0 – v4.x', detail: expect.stringContaining(told) });
      expect(found?.detail).toContain('GetInstance answered 403');
      expect(fake.requests.slice(start)).toEqual([
        'POST /zitadel.instance.v2.InstanceService/GetInstance',
        `POST ${SERVICE}/ListApplications`,
      ]);
    });
  });
});

describe.each(['current', 'v4.5'] as const)('cold lookups on the %s generation', (generation) => {
  it('finds a client by its client id (one filtered ListApplications, or the pages of an older ZITADEL)', async () => {
    await onGeneration({ generation }, async (fake, on) => {
      const warm = await startBridge(on);
      const cold = await startBridge(
        createZitadelAdapter({
          baseUrl: fake.url,
          projectId: fake.projectId,
          organizationId: fake.organizationId,
          apiToken: fake.apiToken,
        }),
      );
      try {
        for (let i = 0; i < 101; i++) fake.createForeignClient(`Filler ${i}`);
        const created = await warm.call('POST', '/', { body: application() });
        const other = await warm.call('POST', '/', { body: application() });
        const lookups = async (work: () => Promise<unknown>) => {
          const start = fake.requests.length;
          await work();
          return fake.requests.slice(start).filter((line) => line.endsWith('/ListApplications')).length;
        };
        // current: one filtered call each; v4.5: the refused filter once, then the pages (the bridge's ids sort after the fillers').
        expect(await lookups(async () => expect((await cold.call('POST', `/${created.body.client_id}/new-secret`)).status).toBe(200))).toBe(
          generation === 'current' ? 1 : 3,
        );
        expect(await lookups(async () => expect((await cold.call('DELETE', `/${other.body.client_id}`)).status).toBe(204))).toBe(
          generation === 'current' ? 1 : 2,
        );
        expect(await lookups(async () => expect((await cold.call('DELETE', '/123456789012345678')).status).toBe(204))).toBe(
          generation === 'current' ? 1 : 2,
        );
      } finally {
        await cold.close();
        await warm.close();
      }
    });
  });
});
