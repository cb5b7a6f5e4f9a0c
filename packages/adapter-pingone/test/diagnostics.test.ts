import { type AdapterDiagnostics, type DcrAdapter, settingNamesOf } from '@dcr-bridge/core';
import { konnectApplication, operationContext, startBridge } from '@dcr-bridge/conformance';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPingOneAdapter, type PingOneAdapterOptions } from '../src/index.js';
import { dcrBridgeAdapter } from '../src/module.js';
import { BRIDGE_PERMISSIONS, startFakePingOne, type FakePingOne } from './fake-pingone.js';
import { createPingOneApiDescription } from './vendor/pingone-api.js';

/** The doctor runs on the adapter the server builds from its settings: its fixes name them. */
const settingNames = settingNamesOf(dcrBridgeAdapter.settings);

const context = operationContext();
const PERMISSIONS = BRIDGE_PERMISSIONS;

let p1: FakePingOne;
const api = createPingOneApiDescription();
beforeAll(async () => {
  p1 = await startFakePingOne({ api });
});
afterAll(async () => {
  await p1.close();
  api.expectNoProblems();
});
afterEach(() => p1.setWorkerRoles([{ role: 'Application Owner' }]));

const adapterFor = (overrides: Partial<PingOneAdapterOptions> = {}) =>
  createPingOneAdapter({
    settingNames,
    environmentId: p1.environmentId,
    apiUrl: p1.apiUrl,
    authUrl: p1.authUrl,
    clientId: p1.worker.clientId,
    clientSecret: p1.worker.clientSecret,
    ...overrides,
  });

function diagnosticsOf(adapter: DcrAdapter): AdapterDiagnostics {
  if (!adapter.diagnostics) throw new Error('the adapter has no diagnostics');
  return adapter.diagnostics;
}

/** The checks run by a fresh adapter, the PingOne calls they made, and the adapter's readiness. */
async function doctor(overrides: Partial<PingOneAdapterOptions> = {}) {
  const adapter = adapterFor(overrides);
  const start = p1.requests.length;
  const checks = await diagnosticsOf(adapter).checkPermissions(context);
  const calls = p1.requests.slice(start);
  const ready = await adapter.checkReady(context);
  await adapter.close?.();
  return { checks, calls, ready, byName: (name: string) => checks.find((check) => check.name === name) };
}
const writesIn = (calls: string[]) =>
  calls.filter((call) => /^(POST|PUT|PATCH|DELETE) /.test(call) && !/^POST \/[^/]+\/as\/token$/.test(call));

describe('doctor', () => {
  it("passes every permission the worker's Application Owner role grants, read from its role assignments without a write", async () => {
    const { checks, calls, ready } = await doctor();
    expect(checks).toEqual(
      PERMISSIONS.map((permission) => ({ name: `permission: ${permission}`, result: 'pass', detail: 'Granted by Application Owner.' })),
    );
    expect(calls).toEqual([
      `POST /${p1.environmentId}/as/token`,
      `GET /v1/environments/${p1.environmentId}/applications/${p1.worker.clientId}/roleAssignments`,
      'GET /v1/roles',
    ]);
    expect(writesIn(calls)).toEqual([]);
    expect(ready.ready).toBe(true);
  });

  it('fails every permission a role without application rights leaves out, naming the role to grant and where', async () => {
    p1.setWorkerRoles([{ role: 'Identity Data Admin' }]);
    const { checks, ready } = await doctor();
    expect(checks).toHaveLength(PERMISSIONS.length);
    expect(checks[1]).toEqual({
      name: 'permission: applications:create:application',
      result: 'fail',
      detail:
        'The worker holds Identity Data Admin for this environment. None grants applications:create:application, which the bridge needs to create applications.',
      fix: `In PingOne, open application ${p1.worker.clientId} (the bridge's worker) → Roles → Grant Roles, and grant Application Owner for environment ${p1.environmentId} (it includes applications:create:application).`,
    });
    expect(checks.map((check) => check.result)).toEqual(PERMISSIONS.map(() => 'fail'));
    expect(ready).toMatchObject({ ready: false, reason: 'idp_error' });
  });

  it('counts only roles held for this environment (or the organization)', async () => {
    p1.setWorkerRoles([
      { role: 'Application Owner', scope: { type: 'ENVIRONMENT', id: 'another-environment' } },
      { role: 'Environment Admin', scope: { type: 'ORGANIZATION', id: 'the-organization' } },
    ]);
    const { checks } = await doctor();
    expect(checks.map((check) => check.detail)).toEqual(PERMISSIONS.map(() => 'Granted by Environment Admin.'));
    p1.setWorkerRoles([{ role: 'Application Owner', scope: { type: 'ENVIRONMENT', id: 'another-environment' } }]);
    const elsewhere = await doctor();
    expect(elsewhere.checks.map((check) => check.result)).toEqual(PERMISSIONS.map(() => 'fail'));
    expect(elsewhere.checks[0]?.detail).toContain('no built-in role');
  });

  it('leaves what a custom role grants to --write-test', async () => {
    p1.setWorkerRoles([{ role: 'Bridge operator (custom)' }]);
    const { checks } = await doctor();
    expect(checks.map((check) => check.result)).toEqual(PERMISSIONS.map(() => 'skip'));
    expect(checks[0]?.detail).toMatch(/1 custom role\..*--write-test/);
  });

  it('when PingOne will not show the role assignments, proves reading with one GET and skips the rest', async () => {
    p1.failNext('GET', /\/roleAssignments$/, 403, {
      id: 'e1',
      code: 'ACCESS_FAILED',
      message: 'The request could not be completed. You do not have permissions or are not licensed to make this request.',
    });
    const { checks, calls } = await doctor();
    expect(checks[0]).toEqual({ name: 'permission: applications:read:application', result: 'pass', detail: 'GET answered 200' });
    expect(checks.slice(1).map((check) => check.result)).toEqual(PERMISSIONS.slice(1).map(() => 'skip'));
    expect(checks[1]?.detail).toContain('--write-test');
    expect(calls).toContain(`GET /v1/environments/${p1.environmentId}/applications?limit=1`);
    expect(writesIn(calls)).toEqual([]);
  });

  it('fails every check when the worker credentials are refused, naming the settings and never the secret', async () => {
    const wrong = 'not-the-worker-secret-at-all';
    const { checks, ready } = await doctor({ clientSecret: wrong });
    expect(checks.map((check) => check.result)).toEqual(PERMISSIONS.map(() => 'fail'));
    expect(checks[0]?.fix).toContain('PINGONE_CLIENT_SECRET');
    expect(JSON.stringify(checks)).not.toContain(wrong);
    expect(ready.ready).toBe(false);
  });

  it('reports the API URL, and the token endpoint where an application the bridge created gets a token', async () => {
    const adapter = adapterFor();
    const bridge = await startBridge(adapter);
    try {
      const diagnostics = diagnosticsOf(adapter);
      expect(diagnostics.adminUrl).toBe(p1.apiUrl);
      const tokenEndpoint = await diagnostics.tokenEndpoint(context);
      expect(tokenEndpoint).toBe(`${p1.authUrl}/${p1.environmentId}/as/token`);
      const created = await bridge.call('POST', '/', { body: konnectApplication({ grant_types: ['client_credentials'] }) });
      expect(created.status).toBe(201);
      const answer = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${created.body.client_id}:${created.body.client_secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });
    } finally {
      await bridge.close();
    }
  });
});

describe('doctor: IdP version', () => {
  it('names PingOne and its API generation from the API base URL, without an IdP call (PingOne has no version endpoint)', async () => {
    const adapter = adapterFor();
    const start = p1.requests.length;
    expect(await diagnosticsOf(adapter).idpVersion!(context)).toEqual({
      product: 'PingOne',
      supported: 'Platform API v1',
      withinSupported: true,
      detail: 'a hosted service with no version endpoint: Platform API v1, from the API base URL',
    });
    expect(p1.requests.slice(start)).toEqual([]);
    await adapter.close?.();
  });

  it('is outside the supported range for another API generation, and says so when the URL names none', async () => {
    const next = adapterFor({ apiUrl: 'https://api.example.com/v2', authUrl: p1.authUrl });
    expect(await diagnosticsOf(next).idpVersion!(context)).toMatchObject({ product: 'PingOne', withinSupported: false });
    const custom = adapterFor({ apiUrl: 'https://pingone-proxy.example.com/platform', authUrl: p1.authUrl });
    const unknown = await diagnosticsOf(custom).idpVersion!(context);
    expect(unknown.withinSupported).toBeUndefined();
    expect(unknown.detail).toContain('names no API generation');
    await next.close?.();
    await custom.close?.();
  });
});

describe('readiness sees write permission (core caches the permission checks)', () => {
  it('is not ready for a worker that may read applications but not write them', async () => {
    p1.setWorkerRoles([{ role: 'Configuration Read Only' }]);
    const { ready, checks } = await doctor();
    expect(checks.find((check) => check.name === 'permission: applications:read:application')?.result).toBe('pass');
    expect(ready).toMatchObject({ ready: false, reason: 'idp_error' });
    expect((ready as { missingPermissions?: string[] }).missingPermissions).toEqual(
      expect.arrayContaining(['permission: applications:create:application', 'permission: applications:update:secret']),
    );
    expect((ready as { missingPermissions?: string[] }).missingPermissions).not.toContain('permission: applications:read:application');
  });
});
