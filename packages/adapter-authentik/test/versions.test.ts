import { parseRegistration } from '@dcr-bridge/core/http';
import { type BridgeHarness, konnectApplication, operationContext, startBridge } from '@dcr-bridge/conformance';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createAuthentikAdapter } from '../src/index.js';
import { GENERATIONS, startFakeAuthentik, type FakeAuthentik, type FakeAuthentikOptions } from './fake-authentik.js';

// authentik's API generations (README, "Supported versions"): from 2026.5 on a provider accepts only the grants its
// `grant_types` lists, and a create that leaves the field out lists none (issue 21).

const started: Array<{ idp: FakeAuthentik; close: () => Promise<unknown> }> = [];
async function setup(options: FakeAuthentikOptions) {
  const idp = await startFakeAuthentik(options);
  const adapter = createAuthentikAdapter({
    baseUrl: idp.url,
    apiToken: idp.apiToken,
    authorizationFlow: idp.flows.authorization,
    invalidationFlow: idp.flows.invalidation,
  });
  const bridge: BridgeHarness = await startBridge(adapter);
  started.push({ idp, close: async () => (await bridge.close(), await adapter.close?.(), await idp.close()) });
  return { idp, adapter, bridge };
}
const context = () => operationContext({ answered: Promise.resolve(true) });
const adminCalls = (idp: FakeAuthentik, start = 0) => idp.requests.slice(start).filter((line) => line.includes(' /api/v3/'));

afterEach(async () => {
  for (const { idp, close } of started.splice(0)) {
    await close();
    idp.api.expectNoProblems();
  }
});

describe.each(GENERATIONS)('authentik %s', (generation) => {
  it('gives Konnect credentials that get a client_credentials token', async () => {
    const { idp, bridge } = await setup({ generation });
    const res = await bridge.call('POST', '/', { body: konnectApplication({ grant_types: ['client_credentials'] }) });
    expect(res.status).toBe(201);
    expect(await idp.clientCredentials(res.body.client_id, res.body.client_secret)).toBe(true);
  });

  it('sends grant_types (the grants Konnect asked for) exactly where authentik has the field', async () => {
    const { idp, bridge } = await setup({ generation });
    const res = await bridge.call('POST', '/', {
      body: konnectApplication({ grant_types: ['client_credentials', 'authorization_code', 'refresh_token'] }),
    });
    expect(res.status).toBe(201);
    expect(idp.client(res.body.client_id)?.grant_types).toEqual(
      generation === '2026.5' ? ['client_credentials', 'authorization_code', 'refresh_token'] : undefined,
    );
  });

  it('reads the version once, at the first create, and not for later ones', async () => {
    const { idp, bridge } = await setup({ generation });
    await bridge.call('POST', '/', { body: konnectApplication() });
    const start = idp.requests.length;
    await bridge.call('POST', '/', { body: konnectApplication() });
    expect(adminCalls(idp).filter((line) => line === 'GET /api/v3/admin/version/')).toHaveLength(1);
    expect(adminCalls(idp, start)).toEqual(['POST /api/v3/providers/oauth2/', 'POST /api/v3/core/applications/']);
  });

  it("doctor names authentik's version, within the supported range", async () => {
    const { idp, adapter } = await setup({ generation });
    const found = await adapter.diagnostics?.idpVersion?.(context());
    expect(found).toEqual({
      product: 'authentik',
      version: idp.version,
      supported: '2024.12 – 2026.8',
      withinSupported: true,
      detail: expect.stringContaining('GET /api/v3/admin/version/'),
    });
    expect(found?.detail).toContain(generation === '2026.5' ? 'sets grant_types' : 'no grant type list');
  });

  it('is not ready when the API token may read but not write', async () => {
    const { adapter } = await setup({ generation, readOnly: true });
    const checks = await adapter.diagnostics?.checkPermissions(context());
    expect(checks?.filter((check) => check.result === 'fail').map((check) => check.name)).toEqual([
      'permission: add_oauth2provider',
      'permission: add_application',
    ]);
    expect(checks?.[3]?.fix).toContain('Can add OAuth2/OpenID Provider');
    const ready = await adapter.checkReady(context());
    expect(ready).toMatchObject({ ready: false, missingPermissions: ['permission: add_oauth2provider', 'permission: add_application'] });
  });
});

describe('authentik versions', () => {
  it.each([
    ['2026.11.0', false],
    ['2024.10.5', false],
    ['2024.12.3', true],
    ['2026.8.3', true],
  ])('doctor: version %s is within the supported range: %s', async (version, within) => {
    const { adapter } = await setup({ generation: '2026.5', version });
    expect(await adapter.diagnostics?.idpVersion?.(context())).toMatchObject({ version, withinSupported: within });
  });

  it('sets the grant types of a provider created just after authentik was upgraded to 2026.5 under a running bridge', async () => {
    const { idp, bridge } = await setup({ generation: '2026.2' });
    await bridge.call('POST', '/', { body: konnectApplication() });
    idp.upgrade('2026.5');
    const start = idp.requests.length;
    const res = await bridge.call('POST', '/', { body: konnectApplication({ grant_types: ['client_credentials'] }) });
    expect(res.status).toBe(201);
    expect(adminCalls(idp, start).map((line) => line.replace(/\/\d+\/$/, '/{pk}/'))).toEqual([
      'POST /api/v3/providers/oauth2/',
      'PATCH /api/v3/providers/oauth2/{pk}/',
      'POST /api/v3/core/applications/',
    ]);
    expect(await idp.clientCredentials(res.body.client_id, res.body.client_secret)).toBe(true);
    // And from then on the create sends them.
    const next = await bridge.call('POST', '/', { body: konnectApplication() });
    expect(idp.client(next.body.client_id)?.grant_types).toEqual(['client_credentials']);
  });
});

describe("the pinned schema.yml in the fake's checks", () => {
  it('reports a misspelt field of a create, and grant_types sent to authentik before 2026.5', async () => {
    const { idp, adapter } = await setup({ generation: '2026.5' });
    const create = (body: Record<string, unknown>) =>
      fetch(`${idp.url}/api/v3/providers/oauth2/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${idp.apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const valid = { name: 'x', authorization_flow: idp.flows.authorization, invalidation_flow: idp.flows.invalidation, redirect_uris: [] };
    await create({ ...valid, client_secrett: 'typo' });
    expect(idp.api.problems).toEqual(['POST /api/v3/providers/oauth2/: request body: /client_secrett is not described']);
    idp.api.problems.splice(0);

    const older = await startFakeAuthentik({ generation: '2026.2' });
    try {
      await fetch(`${older.url}/api/v3/providers/oauth2/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${older.apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          ...valid,
          authorization_flow: older.flows.authorization,
          invalidation_flow: older.flows.invalidation,
          grant_types: [],
        }),
      });
      expect(older.api.problems).toEqual(['POST /api/v3/providers/oauth2/: request body: /grant_types is not described']);
    } finally {
      await older.close();
    }
    await adapter.createClient(parseRegistration(konnectApplication()), context());
  });
});

afterAll(() => expect(started).toEqual([]));
