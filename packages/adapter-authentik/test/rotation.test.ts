import { parseRegistration } from '@dcr-bridge/core/http';
import { konnectApplication, konnectEvent, operationContext, startBridge } from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthentikAdapter } from '../src/index.js';
import { startFakeAuthentik, type FakeAuthentik } from './fake-authentik.js';

// Restore mode (README, "Rotation"): the secret Konnect holds is read before a rotation and put back, with a PATCH
// of client_secret alone, when Konnect did not get the new one.

let idp: FakeAuthentik;
const adapterOn = () =>
  createAuthentikAdapter({
    baseUrl: idp.url,
    apiToken: idp.apiToken,
    authorizationFlow: idp.flows.authorization,
    invalidationFlow: idp.flows.invalidation,
  });
const operation = (answered: boolean) => operationContext({ answered: Promise.resolve(answered) });
/** The admin requests since `start`, with the provider's pk and client id as placeholders. */
const callsSince = (start: number, clientId: string) =>
  idp.requests
    .slice(start)
    .filter((line) => line.includes('/api/v3/'))
    .map((line) => line.replace(/\/oauth2\/\d+\//, '/oauth2/{pk}/').replace(clientId, '{id}'));

beforeAll(async () => {
  idp = await startFakeAuthentik();
});
afterAll(async () => {
  await idp.close();
  idp.api.expectNoProblems();
});

describe('rotation (restore)', () => {
  it('announces restore mode and refuses an overlap, naming authentik', () => {
    const adapter = adapterOn();
    expect(adapter.rotation).toEqual({ mode: 'restore', overlapMs: 0 });
    expect(() =>
      createAuthentikAdapter({
        baseUrl: idp.url,
        apiToken: idp.apiToken,
        authorizationFlow: idp.flows.authorization,
        invalidationFlow: idp.flows.invalidation,
        rotationOverlapMs: 60_000,
      }),
    ).toThrow(/authentik/);
  });

  it('puts back the secret Konnect holds when Konnect did not get the new one, in 2 more calls', async () => {
    const adapter = adapterOn();
    try {
      const created = await adapter.createClient(parseRegistration(konnectApplication()), operation(true));
      await adapter.drained?.();
      const start = idp.requests.length;
      const rotated = await adapter.rotateSecret!(created.clientId, operation(false));
      await adapter.drained?.();
      expect(await idp.clientCredentials(created.clientId, created.clientSecret)).toBe(true);
      expect(await idp.clientCredentials(created.clientId, rotated.clientSecret)).toBe(false);
      expect(callsSince(start, created.clientId)).toEqual([
        // The rotation: Konnect's secret read, the new one written.
        'GET /api/v3/providers/oauth2/{pk}/',
        'PATCH /api/v3/providers/oauth2/{pk}/',
        // Konnect did not get it: the provider read again (its secret comes with it), Konnect's secret written back.
        'GET /api/v3/providers/oauth2/?client_id={id}',
        'PATCH /api/v3/providers/oauth2/{pk}/',
      ]);
    } finally {
      await adapter.close?.();
    }
  });

  it('keeps the new secret, and nothing more is called, once Konnect got it', async () => {
    const adapter = adapterOn();
    try {
      const created = await adapter.createClient(parseRegistration(konnectApplication()), operation(true));
      const start = idp.requests.length;
      const rotated = await adapter.rotateSecret!(created.clientId, operation(true));
      await adapter.drained?.();
      expect(await idp.clientCredentials(created.clientId, created.clientSecret)).toBe(false);
      expect(await idp.clientCredentials(created.clientId, rotated.clientSecret)).toBe(true);
      expect(callsSince(start, created.clientId)).toEqual(['GET /api/v3/providers/oauth2/{pk}/', 'PATCH /api/v3/providers/oauth2/{pk}/']);
    } finally {
      await adapter.close?.();
    }
  });

  it('puts back the secret authentik held when the rotation started, never one an earlier operation read', async () => {
    const first = await startBridge(adapterOn());
    const cold = adapterOn();
    const restarted = await startBridge(cold);
    try {
      const created = await first.call('POST', '/', { body: konnectApplication() });
      const clientId = created.body.client_id as string;
      // The restarted adapter looks the provider up (and remembers it) for an update…
      const updated = await restarted.call('POST', `/${clientId}/event-hook`, {
        body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://app.example.com/cb'] }),
      });
      expect(updated.status).toBe(200);
      // …then the secret changes at authentik (another rotation, an administrator), and a rotation Konnect never gets follows.
      const provider = idp.client(clientId);
      if (!provider) throw new Error('no provider');
      provider.client_secret = 'set-in-the-admin-interface-0123456789abcdef';
      await cold.rotateSecret!(clientId, operation(false));
      await cold.drained?.();
      expect(await idp.clientCredentials(clientId, 'set-in-the-admin-interface-0123456789abcdef')).toBe(true);
      expect(await idp.clientCredentials(clientId, created.body.client_secret as string)).toBe(false);
    } finally {
      await restarted.close();
      await cold.close?.();
      await first.close();
    }
  });

  it('changes nothing but the secret when it puts one back', async () => {
    const adapter = adapterOn();
    try {
      const created = await adapter.createClient(parseRegistration(konnectApplication()), operation(true));
      const before = structuredClone(idp.client(created.clientId));
      await adapter.rotateSecret!(created.clientId, operation(false));
      await adapter.drained?.();
      expect(idp.client(created.clientId)).toEqual(before);
    } finally {
      await adapter.close?.();
    }
  });
});

describe('the fake', () => {
  it('returns the client_secret on every read, takes one in a PATCH, and its token endpoint accepts only that one', async () => {
    const clientId = idp.createForeignClient('Secret check');
    const provider = idp.client(clientId);
    if (!provider) throw new Error('no provider');
    const headers = { authorization: `Bearer ${idp.apiToken}`, 'content-type': 'application/json' };
    const read = await fetch(`${idp.url}/api/v3/providers/oauth2/${provider.pk}/`, { headers });
    expect(((await read.json()) as { client_secret: string }).client_secret).toBe(provider.client_secret);
    const old = provider.client_secret;
    const patched = await fetch(`${idp.url}/api/v3/providers/oauth2/${provider.pk}/`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ client_secret: 'x'.repeat(40) }),
    });
    expect(patched.status).toBe(200);
    expect(await idp.clientCredentials(clientId, 'x'.repeat(40))).toBe(true);
    expect(await idp.clientCredentials(clientId, old)).toBe(false);
    const tooLong = await fetch(`${idp.url}/api/v3/providers/oauth2/${provider.pk}/`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ client_secret: 'x'.repeat(256) }),
    });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toEqual({ client_secret: ['Ensure this field has no more than 255 characters.'] });
    // schema.yml says the same (maxLength 255): the pinned description reports the request, which this test meant.
    expect(idp.api.problems.splice(0)).toEqual([
      `PATCH /api/v3/providers/oauth2/${provider.pk}/: request body: /client_secret must NOT have more than 255 characters`,
    ]);
  });
});
