import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { createJsonStore, createMemoryDriver, defineDcrAdapter, type IdpPrimitives } from '../src/index.js';
import { createIdpHttpClient, path } from '../src/idp.js';
import { CHANNELS, createBridgeApp } from '../src/http.js';
import type { RequestMessage } from '../src/instrumentation.js';
import { konnectBody, ANY_REGISTRATION } from './fixtures.js';
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
      registration: ANY_REGISTRATION,
      async create(_registration, ctx) {
        const created = await http.post<{ id: string; secret: string }>(path`/clients`, { json: {}, signal: ctx.signal });
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

  it('publish every answer, those refused before the adapter too, by Konnect route and status, without ids', async () => {
    const adapter = defineDcrAdapter({
      id: 'measured',
      idpName: 'Measured IdP',
      marker: 'nothing',
      find: async () => undefined,
      isOurs: () => true,
      registration: ANY_REGISTRATION,
      create: async () => ({ clientId: 'client-7f3a9', clientSecret: 'idp-secret-value' }),
      remove: async () => undefined,
      checkReady: async () => ({ ready: true }),
    });
    const app = await listen(createBridgeApp({ adapter, apiKeys: ['measured_api_key_01'], basePath: '/v1/dcr', bodyLimitBytes: 1024 }));
    const key = { 'x-api-key': 'measured_api_key_01' };
    const json = { ...key, 'content-type': 'application/json' };
    const answers: RequestMessage[] = [];
    const listener = (message: unknown) => void answers.push(message as RequestMessage);
    subscribe(CHANNELS.request, listener);
    try {
      const send = async (path: string, init: RequestInit) => (await fetch(`${app.url}${path}`, init)).status;
      expect(await send('/v1/dcr/', { method: 'POST', headers: { 'x-api-key': 'stale_key_0123456789' } })).toBe(401);
      expect(await send('/v1/dcr/client-7f3a9/new-secret', { method: 'POST', headers: { 'content-type': 'application/json' } })).toBe(401);
      expect(await send('/v1/dcr/', { method: 'POST', headers: { ...key, 'content-type': 'text/plain' }, body: 'x' })).toBe(415);
      expect(await send('/v1/dcr/', { method: 'POST', headers: json, body: '{"a":' })).toBe(400);
      expect(await send('/v1/dcr/', { method: 'POST', headers: json, body: JSON.stringify({ a: 'x'.repeat(2000) }) })).toBe(413);
      expect(await send('/v1/dcr/client-7f3a9/elsewhere', { method: 'POST', headers: key })).toBe(404);
      expect(await send('/v1/dcr/client-7f3a9', { method: 'PUT', headers: key })).toBe(405);
      expect(await send('/v1/dcr/', { method: 'POST', headers: json, body: JSON.stringify(konnectBody()) })).toBe(201);
      expect(await send('/V1/DCR/client-7f3a9/', { method: 'DELETE', headers: key })).toBe(204);
      expect(await send('/healthz', { method: 'GET' })).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      unsubscribe(CHANNELS.request, listener);
      await app.close();
    }
    expect(answers.map(({ method, route, status, outcome }) => `${method} ${route} ${status} ${outcome}`)).toEqual([
      'POST / 401 unauthorized',
      'POST /{clientId}/new-secret 401 unauthorized',
      'POST / 415 unsupported_media_type',
      'POST / 400 invalid_request',
      'POST / 413 payload_too_large',
      'POST other 404 not_found',
      'PUT /{clientId} 405 method_not_allowed',
      'POST / 201 success',
      'DELETE /{clientId} 204 success',
      'GET /healthz 200 success',
    ]);
    for (const answer of answers) expect(answer.seconds).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(answers)).not.toContain('client-7f3a9');
  });
});
