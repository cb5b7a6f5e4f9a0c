import { readAdapterOptions, silentLogger } from '@dcr-bridge/core';
import { konnectApplication, startBridge, type BridgeHarness } from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPingOneAdapter, dcrBridgeAdapter } from '../src/index.js';
import { startFakePingOne, type FakePingOne } from './fake-pingone.js';

let p1: FakePingOne;
let bridge: BridgeHarness;
const adapter = () => createPingOneAdapter({ environmentId: p1.environmentId, apiUrl: p1.apiUrl, authUrl: p1.authUrl, clientId: p1.worker.clientId, clientSecret: p1.worker.clientSecret });
beforeAll(async () => {
  p1 = await startFakePingOne();
  bridge = await startBridge(adapter());
});
afterAll(async () => {
  await bridge.close();
  await p1.close();
});

describe('create', () => {
  it('creates a web app, reads its secret, grants scopes through their resources and marks it', async () => {
    const res = await bridge.call('POST', '/', { body: konnectApplication({ client_name: 'Orders', grant_types: ['authorization_code', 'bearer'], scopes: ['orders:read', 'orders:write', 'profile'], token_endpoint_auth_method: 'client_secret_basic' }) });
    expect(res.status).toBe(201);
    const app = p1.app(res.body.client_id);
    expect(app?.body).toMatchObject({ type: 'WEB_APP', protocol: 'OPENID_CONNECT', grantTypes: ['AUTHORIZATION_CODE', 'CLIENT_CREDENTIALS'], responseTypes: ['CODE'], tokenEndpointAuthMethod: 'CLIENT_SECRET_BASIC' });
    expect(app?.body.name).toMatch(/^Orders-[a-z0-9]{8}$/);
    expect(app?.body.description).toMatch(/dcr-bridge: \{"managed":true/);
    expect(res.body.client_secret).toBe(app?.secret);
    expect(p1.scopeNames(app!).sort()).toEqual(['orders:read', 'orders:write', 'profile']);
    expect(app?.grants).toHaveLength(2);
  });

  it('deletes the application again when granting scopes fails', async () => {
    const before = p1.appCount();
    p1.failNext('POST', /\/grants$/, 500, { id: 'x', code: 'UNEXPECTED_SERVER_ERROR', message: 'boom' });
    const res = await bridge.call('POST', '/', { body: konnectApplication({ scopes: ['orders:read'] }) });
    expect(res.status).toBe(502);
    expect(p1.appCount()).toBe(before);
  });

  it('deletes the application again when reading its secret fails', async () => {
    const before = p1.appCount();
    p1.failNext('GET', /\/secret$/, 403, { id: 'x', code: 'ACCESS_FAILED', message: 'The worker lacks the Application Owner role.' });
    const res = await bridge.call('POST', '/', { body: konnectApplication() });
    expect(res.status).toBe(502);
    expect(res.body.error_description).toContain('lack a permission');
    expect(p1.appCount()).toBe(before);
  });

  it('names what PingOne refuses, creating nothing', async () => {
    const before = p1.appCount();
    const method = await bridge.call('POST', '/', { body: konnectApplication({ token_endpoint_auth_method: 'private_key_jwt' }) });
    expect(method.body.error_description).toContain('"private_key_jwt"');
    const grant = await bridge.call('POST', '/', { body: konnectApplication({ grant_types: ['password'] }) });
    expect(grant.body.error_description).toContain('password');
    expect(p1.appCount()).toBe(before);
  });
});

describe('rotation, tokens, limits, paths', () => {
  it('rotates with no overlap: the previous secret is not kept', async () => {
    const created = await bridge.call('POST', '/', { body: konnectApplication() });
    await bridge.call('POST', `/${created.body.client_id}/new-secret`);
    expect(p1.app(created.body.client_id)?.previous).toBeUndefined();
  });

  it('gets one worker token for many concurrent creates', async () => {
    const local = await startBridge(adapter());
    try {
      const before = p1.workerTokenRequests();
      const results = await Promise.all(Array.from({ length: 8 }, () => local.call('POST', '/', { body: konnectApplication() })));
      expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
      expect(p1.workerTokenRequests() - before).toBe(1);
    } finally {
      await local.close();
    }
  });

  it('honours 429: a short Retry-After on reads is waited out, a create answers 503 with Retry-After', async () => {
    p1.failNext('GET', /\/applications\/[^/]+$/, 429, { id: 'x', code: 'REQUEST_LIMITED', message: 'Too many requests' }, { 'retry-after': '0' });
    expect((await bridge.call('DELETE', '/00000000-0000-0000-0000-000000000000')).status).toBe(204);
    p1.failNext('POST', /\/applications$/, 429, { id: 'x', code: 'REQUEST_LIMITED', message: 'Too many requests' }, { 'retry-after': '20' });
    const limited = await bridge.call('POST', '/', { body: konnectApplication() });
    expect(limited.status).toBe(503);
    expect(limited.headers.get('retry-after')).toBe('20');
  });

  it.each(['../../users', 'a/b', '%2F..', 'x?limit=100'])('keeps %j inside one path segment', async (clientId) => {
    const start = p1.requests.length;
    await bridge.call('DELETE', `/${encodeURIComponent(clientId)}`);
    const lines = p1.requests.slice(start).filter((line) => line.includes('/v1/'));
    expect(lines).toEqual([`GET /v1/environments/${p1.environmentId}/applications/${encodeURIComponent(clientId)}`]);
  });
});

describe('settings', () => {
  it('derives the hosts from the region', () => {
    const options = readAdapterOptions(dcrBridgeAdapter, { PINGONE_ENVIRONMENT_ID: 'env', PINGONE_REGION: 'eu', PINGONE_CLIENT_ID: 'worker', PINGONE_CLIENT_SECRET: 's' });
    expect(options).toMatchObject({ environmentId: 'env', region: 'eu', clientId: 'worker' });
  });

  it('talks to the regional hosts: auth.pingone.{region} for the token, api.pingone.{region}/v1 for the API', async () => {
    const urls: string[] = [];
    const recording = (async (input: URL | Request | string) => {
      urls.push(String(input instanceof Request ? input.url : input));
      return String(input).includes('/as/token')
        ? new Response(JSON.stringify({ access_token: 't', token_type: 'Bearer', expires_in: 3600 }), { headers: { 'content-type': 'application/json' } })
        : new Response(JSON.stringify({ _embedded: { applications: [] } }), { headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    const regional = createPingOneAdapter({ environmentId: 'env-1', region: 'com.au', clientId: 'worker', clientSecret: 's', fetch: recording });
    expect(await regional.checkReady({ signal: AbortSignal.timeout(2000), logger: silentLogger, requestId: 'r' })).toEqual({ ready: true });
    expect(urls).toEqual(['https://auth.pingone.com.au/env-1/as/token', 'https://api.pingone.com.au/v1/environments/env-1/applications?limit=1']);
  });

  it('lists every problem at once', () => {
    expect(() => readAdapterOptions(dcrBridgeAdapter, { PINGONE_REGION: 'mars', PINGONE_API_URL: 'https://api.example.com/v1' })).toThrow(
      'Invalid pingone settings:\n- PINGONE_API_URL and PINGONE_AUTH_URL go together (or set PINGONE_REGION).\n- PINGONE_ENVIRONMENT_ID is required.\n- PINGONE_REGION must be one of com, eu, ca, com.au, sg, asia (got "mars").\n- PINGONE_CLIENT_ID is required.\n- PINGONE_CLIENT_SECRET is required.',
    );
  });
});
