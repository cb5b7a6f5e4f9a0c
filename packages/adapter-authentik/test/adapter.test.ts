import { readAdapterOptions, type StateStore } from '@dcr-bridge/core';
import { parseRegistration } from '@dcr-bridge/core/http';
import { type BridgeHarness, konnectApplication, konnectEvent, operationContext, startBridge } from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthentikAdapter, dcrBridgeAdapter } from '../src/index.js';
import { GENERATIONS, startFakeAuthentik, type FakeAuthentik } from './fake-authentik.js';

// Every test of this file runs against both API generations the fake models (README, "Supported versions").
describe.each(GENERATIONS)('authentik %s', (generation) => {
  let idp: FakeAuthentik;
  let bridge: BridgeHarness;
  let adapter: ReturnType<typeof createAuthentikAdapter>;
  const adapterOn = (journal?: StateStore, apiToken = idp.apiToken) =>
    createAuthentikAdapter({
      baseUrl: idp.url,
      apiToken,
      authorizationFlow: idp.flows.authorization,
      invalidationFlow: idp.flows.invalidation,
      journal,
    });
  /** The context core gives an adapter call; `answered` is what Konnect's connection did with the answer. */
  const operation = (answered: Promise<boolean>) => operationContext({ answered });

  beforeAll(async () => {
    idp = await startFakeAuthentik({ generation });
    adapter = adapterOn();
    bridge = await startBridge(adapter);
  });
  afterAll(async () => {
    await bridge.close();
    await adapter.close?.();
    await idp.close();
    // Every request the adapter sent and every answer the fake gave, against authentik's pinned schema.yml.
    idp.api.expectNoProblems();
  });

  describe('create', () => {
    it('creates a marked provider whose client id ends in the create nonce, and the application exposing it', async () => {
      const res = await bridge.call('POST', '/', {
        body: konnectApplication({ client_name: 'Orders App', scopes: ['read:orders'], redirect_uris: ['https://app.example.com/cb'] }),
      });
      expect(res.status).toBe(201);
      const clientId = res.body.client_id as string;
      expect(clientId).toMatch(/^orders-app-[a-z0-9]{8}$/);
      const readOrders = idp.scopeMappingPk('read:orders');
      expect(idp.client(clientId)).toMatchObject({
        name: `dcr-bridge: ${clientId}`,
        client_type: 'confidential',
        redirect_uris: [{ matching_mode: 'strict', url: 'https://app.example.com/cb' }],
        property_mappings: [readOrders],
        authorization_flow: idp.flows.authorization,
        invalidation_flow: idp.flows.invalidation,
      });
      expect(idp.application(clientId)).toMatchObject({
        name: 'Orders App',
        provider: idp.client(clientId)?.pk,
        meta_publisher: 'dcr-bridge',
      });
      expect(await idp.clientCredentials(clientId, res.body.client_secret)).toBe(true);
    });

    it('refuses what authentik cannot do before any call, creating nothing', async () => {
      const start = idp.requests.length;
      const res = await bridge.call('POST', '/', { body: konnectApplication({ token_endpoint_auth_method: 'private_key_jwt' }) });
      expect(res.body).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringContaining('"private_key_jwt"') });
      expect(idp.requests.slice(start)).toEqual([]);
    });

    it('refuses an unknown scope after reading the scope mappings, creating nothing', async () => {
      const start = idp.requests.length;
      const res = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['read:orders', 'no-such-scope'] }) });
      expect(res.body).toEqual({ error: 'invalid_scope', error_description: expect.stringContaining('"no-such-scope"') });
      expect(idp.requests.slice(start)).toEqual(['GET /api/v3/propertymappings/provider/scope/?page=1&page_size=100']);
    });

    it('reads every page of scope mappings', async () => {
      const crowded = await startFakeAuthentik({ generation });
      crowded.addScopeMappings(Array.from({ length: 120 }, (_, index) => `extra:${index}`));
      const own = createAuthentikAdapter({
        baseUrl: crowded.url,
        apiToken: crowded.apiToken,
        authorizationFlow: crowded.flows.authorization,
        invalidationFlow: crowded.flows.invalidation,
      });
      try {
        const created = await own.createClient(
          parseRegistration(konnectApplication({ scopes: ['extra:119'] })),
          operation(Promise.resolve(true)),
        );
        expect(crowded.requests.slice(0, 2)).toEqual([
          'GET /api/v3/propertymappings/provider/scope/?page=1&page_size=100',
          'GET /api/v3/propertymappings/provider/scope/?page=2&page_size=100',
        ]);
        expect(crowded.client(created.clientId)?.property_mappings).toEqual([crowded.scopeMappingPk('extra:119')]);
      } finally {
        await own.close?.();
        await crowded.close();
        crowded.api.expectNoProblems();
      }
    });

    it("turns authentik's field errors into a 400 saying what was refused (authentik's words stay in the log)", async () => {
      idp.failNext('POST', /^\/api\/v3\/providers\/oauth2\/$/, 400, { redirect_uris: [{ url: ['Enter a valid URL.'] }] });
      const res = await bridge.call('POST', '/', { body: konnectApplication() });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'invalid_redirect_uri', error_description: expect.stringContaining('refused the redirect URIs') });
      expect(res.body.error_description).not.toContain('Enter a valid URL.');
    });

    it('leaves neither provider nor application behind when creating the application fails', async () => {
      const providers = idp.clientCount();
      const applications = idp.applicationCount();
      idp.failNext('POST', /^\/api\/v3\/core\/applications\/$/, 500, { detail: 'A server error occurred.' });
      const res = await bridge.call('POST', '/', { body: konnectApplication() });
      expect(res.status).toBe(502);
      await adapter.drained?.();
      expect([idp.clientCount(), idp.applicationCount()]).toEqual([providers, applications]);
    });
  });

  describe('rotate, update, delete', () => {
    it('rotates to a secret that works while the old one stops working', async () => {
      const created = await bridge.call('POST', '/', { body: konnectApplication() });
      const rotated = await bridge.call('POST', `/${created.body.client_id}/new-secret`);
      expect(rotated.status).toBe(200);
      expect(await idp.clientCredentials(created.body.client_id, created.body.client_secret)).toBe(false);
      expect(await idp.clientCredentials(created.body.client_id, rotated.body.client_secret)).toBe(true);
    });

    it('replaces the redirect URIs and nothing else', async () => {
      const created = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['read:orders'] }) });
      const clientId = created.body.client_id as string;
      const before = idp.client(clientId);
      const res = await bridge.call('POST', `/${clientId}/event-hook`, {
        body: konnectEvent(clientId, {
          event_type: 'update_application',
          redirect_uris: ['https://a.example.com/cb', 'https://b.example.com/cb'],
        }),
      });
      expect(res.status).toBeLessThan(300);
      expect(idp.client(clientId)).toEqual({
        ...before,
        redirect_uris: [
          { matching_mode: 'strict', url: 'https://a.example.com/cb' },
          { matching_mode: 'strict', url: 'https://b.example.com/cb' },
        ],
      });
      expect(await idp.clientCredentials(clientId, created.body.client_secret)).toBe(true);
    });

    it('deletes the application and the provider', async () => {
      const created = await bridge.call('POST', '/', { body: konnectApplication() });
      const clientId = created.body.client_id as string;
      expect((await bridge.call('DELETE', `/${clientId}`)).status).toBe(204);
      expect(idp.client(clientId)).toBeUndefined();
      expect(idp.application(clientId)).toBeUndefined();
    });

    it("finishes on Konnect's retry a delete that failed between the application and the provider", async () => {
      const created = await bridge.call('POST', '/', { body: konnectApplication() });
      const clientId = created.body.client_id as string;
      idp.failNext('DELETE', /^\/api\/v3\/providers\/oauth2\/\d+\/$/, 500, { detail: 'A server error occurred.' });
      expect((await bridge.call('DELETE', `/${clientId}`)).status).toBe(502);
      expect([idp.application(clientId), idp.client(clientId)?.client_id]).toEqual([undefined, clientId]);
      expect((await bridge.call('DELETE', `/${clientId}`)).status).toBe(204);
      expect(idp.client(clientId)).toBeUndefined();
    });

    it("refuses a provider made in authentik's admin interface, and leaves it alone", async () => {
      const foreign = idp.createForeignClient();
      const res = await bridge.call('DELETE', `/${foreign}`);
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('client_not_managed');
      expect(idp.client(foreign)).toBeDefined();
    });
  });

  describe('paths built from client ids', () => {
    it.each(['../../core/applications', 'a/b', '%2F..', 'x?page_size=1'])('keeps %j inside one query value', async (clientId) => {
      const start = idp.requests.length;
      await bridge.call('DELETE', `/${encodeURIComponent(clientId)}`);
      await bridge.call('POST', `/${encodeURIComponent(clientId)}/new-secret`);
      const lookup = `GET /api/v3/providers/oauth2/?${new URLSearchParams({ client_id: clientId }).toString()}`;
      expect(idp.requests.slice(start)).toEqual([lookup, lookup]);
    });
  });

  describe('IdP failures', () => {
    it('answers 503 with Retry-After when a proxy in front of authentik rate-limits a create', async () => {
      idp.failNext('POST', /^\/api\/v3\/providers\/oauth2\/$/, 429, { detail: 'Too many requests.' }, { 'retry-after': '12' });
      const res = await bridge.call('POST', '/', { body: konnectApplication() });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('12');
    });

    it("answers 502 for a refused API token (authentik's 403), without the token, and is not ready", async () => {
      const refused = adapterOn(undefined, 'wrong-token');
      const wrong = await startBridge(refused);
      try {
        const res = await wrong.call('DELETE', '/some-client');
        expect(res.status).toBe(502);
        expect(res.body.error).toBe('idp_error');
        expect(res.body.error_description).not.toContain('Token invalid/expired');
        expect(JSON.stringify(res.body)).not.toContain('wrong-token');
        expect((await refused.checkReady(operation(Promise.resolve(true)))).ready).toBe(false);
        expect((await adapter.checkReady(operation(Promise.resolve(true)))).ready).toBe(true);
      } finally {
        await wrong.close();
      }
    });
  });

  describe('diagnostics', () => {
    it('proves the read permissions, leaves the writes to --write-test, and names the token endpoint', async () => {
      const diagnostics = adapter.diagnostics;
      const context = operation(Promise.resolve(true));
      idp.failNext('GET', /^\/api\/v3\/core\/applications\/$/, 403, { detail: 'You do not have permission to perform this action.' });
      const checks = await diagnostics?.checkPermissions(context);
      expect(checks?.map((check) => [check.name, check.result])).toEqual([
        ['permission: view_oauth2provider', 'pass'],
        ['permission: view_application', 'fail'],
        ['permission: view_scopemapping', 'pass'],
        ['permission: add_oauth2provider', 'pass'],
        ['permission: add_application', 'pass'],
        ['permissions: change and delete of OAuth2/OpenID Providers and Applications', 'skip'],
      ]);
      expect(checks?.[1]?.fix).toContain('Can view Application');
      expect(diagnostics?.adminUrl).toBe(idp.url);
      expect(await diagnostics?.tokenEndpoint(context)).toBe(`${idp.url}/application/o/token/`);
    });
  });
});

describe('settings', () => {
  const flows = {
    AUTHENTIK_AUTHORIZATION_FLOW: '7b1a3c52-1d44-4a55-9b3e-0c6f1f7a9d01',
    AUTHENTIK_INVALIDATION_FLOW: '0f6c2a1e-8d2b-4c1f-a3e4-5b6c7d8e9f00',
  };

  it('reads the authentik settings', () => {
    expect(
      readAdapterOptions(dcrBridgeAdapter, { AUTHENTIK_URL: 'https://idp.example.com', AUTHENTIK_API_TOKEN: 'token', ...flows }),
    ).toEqual({
      baseUrl: 'https://idp.example.com',
      apiToken: 'token',
      authorizationFlow: flows.AUTHENTIK_AUTHORIZATION_FLOW,
      invalidationFlow: flows.AUTHENTIK_INVALIDATION_FLOW,
      timeoutMs: 30_000,
    });
  });

  it('takes an http AUTHENTIK_URL only with AUTHENTIK_ALLOW_INSECURE_HTTP=true', () => {
    const base = { AUTHENTIK_URL: 'http://authentik.internal:9000', AUTHENTIK_API_TOKEN: 'token', ...flows };
    expect(() => readAdapterOptions(dcrBridgeAdapter, base)).toThrow(/AUTHENTIK_URL[\s\S]*AUTHENTIK_ALLOW_INSECURE_HTTP/);
    expect(readAdapterOptions(dcrBridgeAdapter, { ...base, AUTHENTIK_ALLOW_INSECURE_HTTP: 'true' }).baseUrl).toBe(
      'http://authentik.internal:9000',
    );
  });

  it('lists every missing setting at once', () => {
    expect(() => readAdapterOptions(dcrBridgeAdapter, {})).toThrow(
      'Invalid authentik settings:\n- AUTHENTIK_URL is required.\n- AUTHENTIK_API_TOKEN is required.\n- AUTHENTIK_AUTHORIZATION_FLOW is required.\n- AUTHENTIK_INVALIDATION_FLOW is required.',
    );
  });

  it('refuses a flow slug where the flow UUID belongs', () => {
    expect(() =>
      readAdapterOptions(dcrBridgeAdapter, {
        AUTHENTIK_URL: 'https://idp.example.com',
        AUTHENTIK_API_TOKEN: 'token',
        ...flows,
        AUTHENTIK_AUTHORIZATION_FLOW: 'default-provider-authorization-implicit-consent',
      }),
    ).toThrow('AUTHENTIK_AUTHORIZATION_FLOW must be the UUID of a flow');
  });
});
