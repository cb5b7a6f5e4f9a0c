import { randomUUID } from 'node:crypto';
import { readAdapterOptions, type StateStore } from '@dcr-bridge/core';
import { type BridgeHarness, konnectApplication, konnectEvent, operationContext, startBridge } from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFusionauthAdapter, dcrBridgeAdapter, type FusionauthAdapterOptions } from '../src/index.js';
import { startFakeFusionauth, type FakeFusionauth } from './fake-fusionauth.js';

let idp: FakeFusionauth;
let bridge: BridgeHarness;
let adapter: ReturnType<typeof createFusionauthAdapter>;
const adapterOn = (journal?: StateStore, overrides: Partial<FusionauthAdapterOptions> = {}) =>
  createFusionauthAdapter({
    baseUrl: idp.url,
    apiKey: idp.apiKey,
    tenantId: idp.tenantId,
    entityTypeId: idp.entityTypeId,
    targetEntityId: idp.targetEntityId,
    journal,
    ...overrides,
  });
/** The context core gives an adapter call; `answered` is what Konnect's connection did with the answer. */
const operation = (answered: Promise<boolean>) => operationContext({ answered });
const entityPattern = /^\/api\/entity\/[0-9a-f-]{36}$/;

beforeAll(async () => {
  idp = await startFakeFusionauth();
  adapter = adapterOn();
  bridge = await startBridge(adapter);
});
afterAll(async () => {
  await bridge.close();
  await adapter.close?.();
  await idp.close();
  // Every request the adapter sent and every answer the fake gave, as FusionAuth's own API description has them.
  idp.api.expectNoProblems();
});

describe('create', () => {
  it('creates a marked entity whose name ends in the create nonce, granted its scopes on the target entity', async () => {
    const res = await bridge.call('POST', '/', {
      body: konnectApplication({ client_name: 'Orders App', scopes: ['read:orders'], redirect_uris: ['https://app.example.com/cb'] }),
    });
    expect(res.status).toBe(201);
    const entity = idp.entity(res.body.client_id);
    expect(entity?.name).toMatch(/^orders-app-[a-z0-9]{8}$/);
    expect(entity).toMatchObject({
      clientId: res.body.client_id,
      type: { id: idp.entityTypeId },
      data: { dcrBridgeManaged: true, scopes: ['read:orders'], redirectUris: ['https://app.example.com/cb'] },
    });
    expect(idp.grantedPermissions(res.body.client_id)).toEqual(['read:orders']);
    expect(await idp.clientCredentials(res.body.client_id, res.body.client_secret)).toBe(true);
    expect(await idp.clientCredentials(res.body.client_id, res.body.client_secret, `target-entity:${idp.targetEntityId}:read:orders`)).toBe(
      true,
    );
    expect(
      await idp.clientCredentials(res.body.client_id, res.body.client_secret, `target-entity:${idp.targetEntityId}:write:orders`),
    ).toBe(false);
  });

  it.each([
    [{ token_endpoint_auth_method: 'private_key_jwt' }, '"private_key_jwt"'],
    [{ grant_types: ['authorization_code'] }, 'authorization_code'],
    [{ scopes: ['no-such-permission'] }, '"no-such-permission"'],
  ])('refuses %j before creating anything', async (fields, named) => {
    const before = idp.entityCount();
    const start = idp.requests.length;
    const res = await bridge.call('POST', '/', { body: konnectApplication(fields) });
    expect(res.status).toBe(400);
    expect(res.body.error_description).toContain(named);
    expect(idp.requests.slice(start).filter((line) => line.startsWith('POST'))).toEqual([]);
    expect(idp.entityCount()).toBe(before);
  });

  it('refuses scopes when no target entity is configured, and grants nothing without one', async () => {
    const untargeted = adapterOn(undefined, { targetEntityId: undefined });
    const other = await startBridge(untargeted);
    try {
      const refused = await other.call('POST', '/', { body: konnectApplication({ scopes: ['read:orders'] }) });
      expect(refused.body).toEqual({ error: 'invalid_scope', error_description: expect.stringContaining("the adapter's targetEntityId") });
      const start = idp.requests.length;
      const created = await other.call('POST', '/', { body: konnectApplication() });
      expect(created.status).toBe(201);
      expect(idp.requests.slice(start)).toEqual([expect.stringMatching(/^POST \/api\/entity\/[0-9a-f-]{36}$/)]);
      expect(idp.grantedPermissions(created.body.client_id)).toBeUndefined();
    } finally {
      await other.close();
      await untargeted.close?.();
    }
  });

  it("turns FusionAuth's Errors object into a 400 (FusionAuth's words stay in the log)", async () => {
    idp.failNext('POST', entityPattern, 400, {
      fieldErrors: { 'entity.name': [{ code: '[blank]entity.name', message: 'You must specify the [entity.name] property.' }] },
    });
    const res = await bridge.call('POST', '/', { body: konnectApplication() });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_client_metadata',
      error_description: expect.stringContaining("refused this application's settings"),
    });
    expect(res.body.error_description).not.toContain('entity.name');
  });

  it('leaves no entity behind when the grant fails', async () => {
    const before = idp.entityCount();
    idp.failNext('POST', /\/grant$/, 500, {
      generalErrors: [{ code: '[Exception]', message: 'FusionAuth encountered an unexpected error.' }],
    });
    const res = await bridge.call('POST', '/', { body: konnectApplication() });
    expect(res.status).toBe(502);
    await adapter.drained?.();
    expect(idp.entityCount()).toBe(before);
  });
});

describe('rotation and redirect URIs', () => {
  it('rotates to a secret the bridge generated: the old one is refused, the entity keeps its marker and data', async () => {
    const created = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['read:orders'] }) });
    const clientId = created.body.client_id as string;
    const rotated = await bridge.call('POST', `/${clientId}/new-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.client_secret).not.toBe(created.body.client_secret);
    expect(await idp.clientCredentials(clientId, created.body.client_secret)).toBe(false);
    expect(await idp.clientCredentials(clientId, rotated.body.client_secret)).toBe(true);
    expect(idp.entity(clientId)).toMatchObject({ data: { dcrBridgeManaged: true, scopes: ['read:orders'] } });
    expect(idp.grantedPermissions(clientId)).toEqual(['read:orders']);
  });

  it('records new redirect URIs in the entity data and leaves the secret alone', async () => {
    const created = await bridge.call('POST', '/', { body: konnectApplication() });
    const clientId = created.body.client_id as string;
    const res = await bridge.call('POST', `/${clientId}/event-hook`, {
      body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://new.example.com/cb'] }),
    });
    expect(res.status).toBeLessThan(300);
    expect(idp.entity(clientId)?.data).toMatchObject({ dcrBridgeManaged: true, redirectUris: ['https://new.example.com/cb'] });
    expect(await idp.clientCredentials(clientId, created.body.client_secret)).toBe(true);
  });

  it('refuses to touch an entity made in the admin UI', async () => {
    const foreign = idp.createForeignEntity();
    expect((await bridge.call('POST', `/${foreign}/new-secret`)).status).toBe(403);
    expect((await bridge.call('DELETE', `/${foreign}`)).status).toBe(403);
    expect(idp.entity(foreign)).toBeDefined();
  });
});

describe('client ids that cannot be an entity id', () => {
  // FusionAuth's entity ids are UUIDs and it answers 400 [couldNotConvert]entityId for anything else: such an id is
  // no client of the bridge's, decided before any call.
  it.each(['x?y=1', 'a/b', '../../users', '../../type', '%2F..', 'not-a-uuid', '0d9e0f1c-7b1a-4c7e-9a51-2f7c1f9b1e1'])(
    '%j: delete 204 (twice), new-secret and event-hook 404, no FusionAuth call',
    async (clientId) => {
      const start = idp.requests.length;
      const path = `/${encodeURIComponent(clientId)}`;
      expect((await bridge.call('DELETE', path)).status).toBe(204);
      expect((await bridge.call('DELETE', path)).status).toBe(204);
      const rotated = await bridge.call('POST', `${path}/new-secret`);
      expect(rotated.status).toBe(404);
      expect(rotated.body.error).toBe('not_found');
      const event = await bridge.call('POST', `${path}/event-hook`, {
        body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://app.example.com/cb'] }),
      });
      expect(event.status).toBe(404);
      expect(idp.requests.slice(start)).toEqual([]);
    },
  );

  it('the fake answers such an id as FusionAuth does: 400 [couldNotConvert]entityId, on every method', async () => {
    const headers = { authorization: idp.apiKey, 'x-fusionauth-tenantid': idp.tenantId, 'content-type': 'application/json' };
    for (const method of ['GET', 'DELETE', 'PATCH', 'PUT']) {
      const res = await fetch(`${idp.url}/api/entity/${encodeURIComponent('x?y=1')}`, {
        method,
        headers,
        ...(method === 'PATCH' || method === 'PUT' ? { body: '{"entity":{}}' } : {}),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        fieldErrors: {
          entityId: [
            {
              code: '[couldNotConvert]entityId',
              message: 'Invalid entityId [x?y=1]. This must be a valid UUID String (e.g. 25a872da-bb44-4af8-a43d-e7bcb5351ebc).',
            },
          ],
        },
      });
    }
    const type = await fetch(`${idp.url}/api/entity/type/nope`, { headers });
    expect(await type.json()).toMatchObject({ fieldErrors: { entityTypeId: [{ code: '[couldNotConvert]entityTypeId' }] } });
  });

  it('keeps settings read into paths inside one path segment', async () => {
    const odd = adapterOn(undefined, { entityTypeId: '../../system/version' });
    try {
      const start = idp.requests.length;
      expect((await odd.checkReady(operation(Promise.resolve(true)))).ready).toBe(false);
      expect(idp.requests.slice(start)[0]).toBe(`GET /api/entity/type/${encodeURIComponent('../../system/version')}`);
    } finally {
      await odd.close?.();
    }
  });
});

describe('IdP failures', () => {
  it('answers 503 with Retry-After when FusionAuth rate-limits a create', async () => {
    idp.failNext('POST', entityPattern, 429, undefined, { 'retry-after': '12' });
    const res = await bridge.call('POST', '/', { body: konnectApplication() });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('12');
  });

  it('answers 502 for a refused API key, without the key, and is not ready', async () => {
    const refused = adapterOn(undefined, { apiKey: 'wrong-api-key' });
    const wrong = await startBridge(refused);
    try {
      const res = await wrong.call('DELETE', `/${randomUUID()}`);
      expect(res.status).toBe(502);
      expect(JSON.stringify(res.body)).not.toContain('wrong-api-key');
      expect((await refused.checkReady(operation(Promise.resolve(true)))).ready).toBe(false);
      expect((await adapter.checkReady(operation(Promise.resolve(true)))).ready).toBe(true);
    } finally {
      await wrong.close();
      await refused.close?.();
    }
  });

  it("passes on FusionAuth's words when the tenant is missing", async () => {
    const untenanted = adapterOn(undefined, { tenantId: undefined });
    try {
      await expect(untenanted.deleteClient(randomUUID(), operation(Promise.resolve(true)))).rejects.toThrow(/tenant Id is required/);
    } finally {
      await untenanted.close?.();
    }
  });
});

describe('doctor', () => {
  it('proves the reads, and the writes by writes that change nothing, and names the token endpoint', async () => {
    const context = operation(Promise.resolve(true));
    const before = idp.entityCount();
    const checks = await adapter.diagnostics?.checkPermissions(context);
    expect(checks?.map((check) => [check.name, check.result])).toEqual([
      ['permission: GET /api/entity/type', 'pass'],
      ['permission: GET /api/entity', 'pass'],
      ['permission: POST /api/entity', 'pass'],
      ['permission: PUT /api/entity', 'pass'],
      ['permission: PATCH /api/entity', 'pass'],
      ['permission: DELETE /api/entity', 'pass'],
      ['permission: POST /api/entity/grant', 'pass'],
    ]);
    expect(idp.entityCount()).toBe(before);
    expect(await adapter.diagnostics?.tokenEndpoint(context)).toBe(`${idp.url}/oauth2/token`);
    expect(adapter.diagnostics?.adminUrl).toBe(idp.url);
  });

  it('fails every write a read-only key lacks, and readiness says not ready (idp_error) naming them', async () => {
    const readOnly = adapterOn(undefined, { apiKey: idp.readOnlyApiKey });
    try {
      const checks = await readOnly.diagnostics?.checkPermissions(operation(Promise.resolve(true)));
      expect(checks?.filter((check) => check.result === 'fail').map((check) => check.name)).toEqual([
        'permission: POST /api/entity',
        'permission: PUT /api/entity',
        'permission: PATCH /api/entity',
        'permission: DELETE /api/entity',
        'permission: POST /api/entity/grant',
      ]);
      expect(checks?.find((check) => check.name === 'permission: PATCH /api/entity')?.fix).toContain('allow PATCH on /api/entity');
      const ready = await readOnly.checkReady(operation(Promise.resolve(true)));
      expect(ready).toMatchObject({ ready: false, reason: 'idp_error' });
      expect(ready.missingPermissions).toContain('permission: DELETE /api/entity');
      expect((await adapter.checkReady(operation(Promise.resolve(true)))).ready).toBe(true);
    } finally {
      await readOnly.close?.();
    }
  });

  it('names FusionAuth and its version from GET /api/system/version, within 1.57.0 and later', async () => {
    expect(await adapter.diagnostics?.idpVersion?.(operation(Promise.resolve(true)))).toEqual({
      product: 'FusionAuth',
      version: '1.69.0',
      supported: '1.57.0 and later',
      withinSupported: true,
      detail: 'GET /api/system/version: 1.69.0',
    });
  });

  it('says how to let doctor read the version when the key may not', async () => {
    const readOnly = adapterOn(undefined, { apiKey: idp.readOnlyApiKey });
    try {
      const found = await readOnly.diagnostics?.idpVersion?.(operation(Promise.resolve(true)));
      expect(found).toMatchObject({ product: 'FusionAuth', supported: '1.57.0 and later' });
      expect(found?.version).toBeUndefined();
      expect(found?.withinSupported).toBeUndefined();
      expect(found?.detail).toContain('allow GET on /api/system/version');
    } finally {
      await readOnly.close?.();
    }
  });

  it('fails a refused key with a fix naming the endpoint to allow', async () => {
    const refused = adapterOn(undefined, { apiKey: 'wrong-api-key' });
    try {
      const checks = await refused.diagnostics?.checkPermissions(operation(Promise.resolve(true)));
      expect(checks?.[0]).toMatchObject({ result: 'fail', fix: expect.stringContaining('allow GET on /api/entity/type') });
      expect(JSON.stringify(checks)).not.toContain('wrong-api-key');
    } finally {
      await refused.close?.();
    }
  });
});

describe('settings', () => {
  it('reads the FusionAuth settings', () => {
    expect(
      readAdapterOptions(dcrBridgeAdapter, {
        FUSIONAUTH_URL: 'https://auth.example.com',
        FUSIONAUTH_API_KEY: 'key',
        FUSIONAUTH_ENTITY_TYPE_ID: 'type',
        FUSIONAUTH_TENANT_ID: 'tenant',
        FUSIONAUTH_TARGET_ENTITY_ID: 'target',
      }),
    ).toEqual({
      baseUrl: 'https://auth.example.com',
      apiKey: 'key',
      entityTypeId: 'type',
      tenantId: 'tenant',
      targetEntityId: 'target',
      timeoutMs: 30_000,
    });
  });

  it('refuses a plain http URL unless FUSIONAUTH_ALLOW_INSECURE_HTTP=true says so', () => {
    const settings = { FUSIONAUTH_URL: 'http://auth.internal:9011', FUSIONAUTH_API_KEY: 'key', FUSIONAUTH_ENTITY_TYPE_ID: 'type' };
    expect(() => readAdapterOptions(dcrBridgeAdapter, settings)).toThrow(/FUSIONAUTH_URL/);
    expect(() => readAdapterOptions(dcrBridgeAdapter, settings)).toThrow(/FUSIONAUTH_ALLOW_INSECURE_HTTP/);
    expect(readAdapterOptions(dcrBridgeAdapter, { ...settings, FUSIONAUTH_ALLOW_INSECURE_HTTP: 'true' })).toMatchObject({
      baseUrl: 'http://auth.internal:9011',
    });
  });

  it('lists every missing setting at once', () => {
    expect(() => readAdapterOptions(dcrBridgeAdapter, {})).toThrow(
      'Invalid fusionauth settings:\n- FUSIONAUTH_URL is required.\n- FUSIONAUTH_API_KEY is required.\n- FUSIONAUTH_ENTITY_TYPE_ID is required.',
    );
  });
});
