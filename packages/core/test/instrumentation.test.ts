import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { createJsonStore, createMemoryDriver, defineDcrAdapter, type IdpPrimitives } from '../src/index.js';
import { createIdpHttpClient, path } from '../src/idp.js';
import { CHANNELS, createBridgeApp } from '../src/http.js';
import { routeTemplate } from '../src/instrumentation.js';
import { konnectBody } from './fixtures.js';
import { listen, readBody, sendJson } from './helpers.js';

const heard: Record<string, unknown[]> = {};
const listeners = Object.values(CHANNELS).map((name) => {
  const listener = (message: unknown) => void (heard[name] ??= []).push(message);
  return { name, listener };
});
afterEach(() => {
  for (const { name, listener } of listeners) unsubscribe(name, listener);
  for (const name of Object.keys(heard)) delete heard[name];
});

describe('instrumentation channels', () => {
  it('take ids out of IdP paths', () => {
    expect(routeTemplate('/admin/realms/acme/clients/3f2a9c1e-0b7d-4e0a-9f6e-1a2b3c4d5e6f/client-secret')).toBe(
      '/admin/realms/acme/clients/{id}/client-secret',
    );
    expect(routeTemplate('/api/v1/apps/0oa1b2c3d4')).toBe('/api/v1/apps/{id}');
    expect(routeTemplate('/pf-admin-api/v1/oauth/clients/konnect-orders-app-abcdefgh')).toBe('/pf-admin-api/v1/oauth/clients/{id}');
    expect(routeTemplate('/reg/a%2Fb')).toBe('/reg/{id}');
  });

  it('publish each Konnect operation, IdP call and store operation, without ids or secrets, only to subscribers', async () => {
    const idp = await listen(async (req, res) => {
      await readBody(req);
      sendJson(res, req.method === 'POST' ? 201 : 200, { id: 'client-7f3a9', secret: 'idp-secret-value' });
    });
    const http = createIdpHttpClient({ idpName: 'Measured IdP', baseUrl: idp.url });
    const primitives: IdpPrimitives<{ id: string }> = {
      id: 'measured',
      idpName: 'Measured IdP',
      marker: 'nothing',
      find: async (clientId, ctx) => (await http.get<{ id: string }>(path`/clients/${clientId}`, { signal: ctx.signal })).body,
      isOurs: () => true,
      async create(_registration, ctx) {
        const created = await http.post<{ id: string; secret: string }>('/clients', { json: {}, signal: ctx.signal });
        await ctx.created(created.body.id);
        return { clientId: created.body.id, clientSecret: created.body.secret };
      },
      remove: async () => undefined,
      checkReady: async () => ({ ready: true }),
    };
    const adapter = defineDcrAdapter(primitives, { journal: createJsonStore(createMemoryDriver()) });
    const app = await listen(createBridgeApp({ adapter, apiKeys: ['measured_api_key_01'] }));
    const headers = { 'x-api-key': 'measured_api_key_01', 'content-type': 'application/json' };
    try {
      // Nobody listens yet: nothing is published.
      await fetch(`${app.url}/`, { method: 'POST', headers, body: JSON.stringify(konnectBody()) });
      expect(heard).toEqual({});
      for (const { name, listener } of listeners) subscribe(name, listener);
      expect((await fetch(`${app.url}/`, { method: 'POST', headers, body: JSON.stringify(konnectBody()) })).status).toBe(201);
      expect((await fetch(`${app.url}/client-7f3a9`, { method: 'DELETE', headers })).status).toBe(204);
      await adapter.drained?.();
      expect(heard[CHANNELS.operation]).toEqual([
        { operation: 'createClient', adapter: 'measured', outcome: 'success', status: 201, seconds: expect.any(Number) },
        { operation: 'deleteClient', adapter: 'measured', outcome: 'success', status: 204, seconds: expect.any(Number) },
      ]);
      // The create handed core no client, so the delete reads it first: its id is out of the route.
      expect(heard[CHANNELS.idpCall]).toEqual([
        { idp: 'Measured IdP', method: 'POST', route: '/clients', status: 201, seconds: expect.any(Number), attempt: 0 },
        { idp: 'Measured IdP', method: 'GET', route: '/clients/{id}', status: 200, seconds: expect.any(Number), attempt: 0 },
      ]);
      expect(
        (heard[CHANNELS.store] as Array<{ store: string; operation: string; ok: boolean }>).map(
          ({ store, operation, ok }) => `${store} ${operation} ${ok}`,
        ),
      ).toEqual(expect.arrayContaining(['json set true', 'json delete true']));
      const text = JSON.stringify(heard);
      for (const value of ['client-7f3a9', 'idp-secret-value', 'measured_api_key_01']) expect(text).not.toContain(value);
    } finally {
      await app.close();
      await idp.close();
      await http.close();
    }
  });
});
