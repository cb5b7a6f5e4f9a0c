import { createJsonStore, createMemoryDriver, readAdapterOptions, type StateStore } from '@dcr-bridge/core';
import { type BridgeHarness, konnectApplication, konnectEvent, operationContext, startBridge } from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create__PASCAL__Adapter, dcrBridgeAdapter } from '../src/index.js';
import { startFake__PASCAL__, type Fake__PASCAL__ } from './fake-__ID__.js';

let idp: Fake__PASCAL__;
let bridge: BridgeHarness;
let adapter: ReturnType<typeof create__PASCAL__Adapter>;
const adapterOn = (journal?: StateStore, apiToken = idp.apiToken) => create__PASCAL__Adapter({ baseUrl: idp.url, apiToken, journal });
/** The context core gives an adapter call; `answered` is what Konnect's connection did with the answer. */
const operation = (answered: Promise<boolean>) => operationContext({ answered });

beforeAll(async () => {
  idp = await startFake__PASCAL__();
  adapter = adapterOn();
  bridge = await startBridge(adapter);
});
afterAll(async () => {
  await bridge.close();
  await adapter.close?.();
  await idp.close();
});

describe('create', () => {
  it('creates a marked client whose name ends in the create nonce', async () => {
    const res = await bridge.call('POST', '/', { body: konnectApplication({ client_name: 'Orders App', scopes: ['read:orders'] }) });
    expect(res.status).toBe(201);
    const client = idp.client(res.body.client_id);
    expect(client?.name).toMatch(/^orders-app-[a-z0-9]{8}$/);
    expect(client).toMatchObject({ scopes: ['read:orders'], metadata: { 'dcr-bridge.managed': 'true' } });
    expect(await idp.clientCredentials(res.body.client_id, res.body.client_secret)).toBe(true);
  });

  it('refuses what __DISPLAY__ cannot do before any call, creating nothing', async () => {
    const start = idp.requests.length;
    const res = await bridge.call('POST', '/', { body: konnectApplication({ token_endpoint_auth_method: 'private_key_jwt' }) });
    expect(res.body).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringContaining('"private_key_jwt"') });
    expect(idp.requests.slice(start)).toEqual([]);
  });

  it('turns a refusal of __DISPLAY__ into a 400 naming the field', async () => {
    idp.failNext('POST', /^\/admin\/clients$/, 400, { error: 'invalid_request', message: 'redirect_uris[0]: wildcards are not allowed.' });
    const res = await bridge.call('POST', '/', { body: konnectApplication() });
    expect(res.status).toBe(400);
    // Konnect reads what was refused; the IdP's own words stay in the log, under the request id.
    expect(res.body).toEqual({ error: 'invalid_redirect_uri', error_description: expect.stringContaining('refused the redirect URIs') });
  });

  it('leaves no client behind when issuing its secret fails', async () => {
    const before = idp.clientCount();
    idp.failNext('POST', /^\/admin\/clients\/[^/]+\/secret$/, 500, { error: 'server_error', message: 'Internal error.' });
    const res = await bridge.call('POST', '/', { body: konnectApplication() });
    expect(res.status).toBe(502);
    await adapter.drained?.();
    expect(idp.clientCount()).toBe(before);
  });
});

describe('paths built from client ids', () => {
  it.each(['../../scopes', 'a/b', '%2F..', 'x?limit=1'])('keeps %j inside one path segment', async (clientId) => {
    const start = idp.requests.length;
    await bridge.call('DELETE', `/${encodeURIComponent(clientId)}`);
    await bridge.call('POST', `/${encodeURIComponent(clientId)}/new-secret`);
    expect(idp.requests.slice(start)).toEqual(Array(2).fill(`GET /admin/clients/${encodeURIComponent(clientId)}`));
  });
});

describe('IdP failures', () => {
  it('answers 503 with Retry-After when __DISPLAY__ rate-limits a create', async () => {
    idp.failNext('POST', /^\/admin\/clients$/, 429, { error: 'rate_limited', message: 'Slow down.' }, { 'retry-after': '12' });
    const res = await bridge.call('POST', '/', { body: konnectApplication() });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('12');
  });

  it('answers 502 for a refused API token, without the token, and is not ready', async () => {
    const refused = adapterOn(undefined, 'wrong-token');
    const wrong = await startBridge(refused);
    try {
      const res = await wrong.call('DELETE', '/some-client');
      expect(res.status).toBe(502);
      expect(JSON.stringify(res.body)).not.toContain('wrong-token');
      expect((await refused.checkReady(operation(Promise.resolve(true)))).ready).toBe(false);
      expect((await adapter.checkReady(operation(Promise.resolve(true)))).ready).toBe(true);
    } finally {
      await wrong.close();
    }
  });
});

describe('lifecycle (core)', () => {
  it('costs __DISPLAY__ the calls of the README table: one per operation on a client this process remembers', async () => {
    await adapter.drained?.();
    const calls = async (work: () => Promise<unknown>) => {
      const start = idp.requests.length;
      await work();
      return idp.requests.slice(start).map((line) => line.replace(/\/clients\/[0-9a-f]+/, '/clients/{id}'));
    };
    const event = (clientId: string, body: Parameters<typeof konnectEvent>[1]) =>
      bridge.call('POST', `/${clientId}/event-hook`, { body: konnectEvent(clientId, body) });
    let clientId = '';
    expect(await calls(async () => (clientId = (await bridge.call('POST', '/', { body: konnectApplication() })).body.client_id))).toEqual([
      'POST /admin/clients',
      'POST /admin/clients/{id}/secret',
    ]);
    expect(await calls(() => bridge.call('POST', '/', { body: konnectApplication({ scopes: ['read:orders'] }) }))).toEqual([
      'GET /admin/scopes',
      'POST /admin/clients',
      'POST /admin/clients/{id}/secret',
    ]);
    expect(await calls(() => bridge.call('POST', `/${clientId}/new-secret`))).toEqual(['POST /admin/clients/{id}/secret']);
    expect(await calls(() => event(clientId, { event_type: 'update_application', redirect_uris: ['https://app.example.com/cb'] }))).toEqual(
      ['PUT /admin/clients/{id}/redirect_uris'],
    );
    expect(await calls(() => event(clientId, { event_type: 'add_registration', audience: 'https://api.example.com' }))).toEqual([]);
    expect(await calls(() => event(clientId, { event_type: 'remove_registration', audience: 'https://api.example.com' }))).toEqual([]);
    expect(await calls(() => bridge.call('DELETE', `/${clientId}`))).toEqual(['DELETE /admin/clients/{id}']);

    // Cold, as after a restart: another adapter reads the client once to prove it the bridge's.
    const other = await bridge.call('POST', '/', { body: konnectApplication() });
    const restarted = await startBridge(adapterOn(createJsonStore(createMemoryDriver())));
    try {
      const id = other.body.client_id as string;
      expect(await calls(() => restarted.call('POST', `/${id}/new-secret`))).toEqual([
        'GET /admin/clients/{id}',
        'POST /admin/clients/{id}/secret',
      ]);
      expect(await calls(() => restarted.call('DELETE', `/${id}`))).toEqual(['DELETE /admin/clients/{id}']);
    } finally {
      await restarted.close();
    }
  });
});

describe('settings', () => {
  it('reads the __DISPLAY__ settings', () => {
    expect(readAdapterOptions(dcrBridgeAdapter, { __ENV___URL: 'https://idp.example.com', __ENV___API_TOKEN: 'token' })).toEqual({
      baseUrl: 'https://idp.example.com',
      apiToken: 'token',
      timeoutMs: 30_000,
    });
  });

  it('lists every missing setting at once', () => {
    expect(() => readAdapterOptions(dcrBridgeAdapter, {})).toThrow(
      'Invalid __ID__ settings:\n- __ENV___URL is required.\n- __ENV___API_TOKEN is required.',
    );
  });
});
