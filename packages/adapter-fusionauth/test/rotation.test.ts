import { parseRegistration } from '@dcr-bridge/core/http';
import { konnectApplication, konnectEvent, operationContext, startBridge } from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFusionauthAdapter } from '../src/index.js';
import { startFakeFusionauth, type FakeFusionauth } from './fake-fusionauth.js';

// Restore mode (README, "Rotation"): the secret Konnect holds is read before a rotation and put back, with a PATCH
// of clientSecret alone, when Konnect did not get the new one.

let idp: FakeFusionauth;
const adapterOn = (rotationOverlapMs?: number) =>
  createFusionauthAdapter({
    baseUrl: idp.url,
    apiKey: idp.apiKey,
    tenantId: idp.tenantId,
    entityTypeId: idp.entityTypeId,
    targetEntityId: idp.targetEntityId,
    rotationOverlapMs,
  });
const operation = (answered: boolean) => operationContext({ answered: Promise.resolve(answered) });
const callsSince = (start: number) =>
  idp.requests
    .slice(start)
    .filter((line) => line.startsWith('/api/', line.indexOf(' ') + 1))
    .map((line) => line.replace(/\/entity\/[0-9a-f-]{36}/, '/entity/{id}'));

beforeAll(async () => {
  idp = await startFakeFusionauth();
});
afterAll(async () => {
  await idp.close();
  idp.api.expectNoProblems();
});

describe('rotation (restore)', () => {
  it('announces restore mode and refuses an overlap, naming FusionAuth', () => {
    expect(adapterOn().rotation).toEqual({ mode: 'restore', overlapMs: 0 });
    expect(() => adapterOn(60_000)).toThrow(/FusionAuth/);
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
      expect(callsSince(start)).toEqual([
        // The rotation: Konnect's secret read, the new one written alone.
        'GET /api/entity/{id}',
        'PATCH /api/entity/{id}',
        // Konnect did not get it: the entity read again (its secret comes with it), Konnect's secret written back.
        'GET /api/entity/{id}',
        'PATCH /api/entity/{id}',
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
      expect(callsSince(start)).toEqual(['GET /api/entity/{id}', 'PATCH /api/entity/{id}']);
    } finally {
      await adapter.close?.();
    }
  });

  it('puts back the secret FusionAuth held when the rotation started, never one an earlier operation read', async () => {
    const first = await startBridge(adapterOn());
    const cold = adapterOn();
    const restarted = await startBridge(cold);
    try {
      const created = await first.call('POST', '/', { body: konnectApplication() });
      const clientId = created.body.client_id as string;
      // The restarted adapter reads the entity (and remembers it) for an update…
      const updated = await restarted.call('POST', `/${clientId}/event-hook`, {
        body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://app.example.com/cb'] }),
      });
      expect(updated.status).toBe(200);
      // …then the secret changes at FusionAuth (an administrator), and a rotation Konnect never gets follows.
      const entity = idp.entity(clientId);
      if (!entity) throw new Error('no entity');
      entity.clientSecret = 'set-in-the-admin-ui-0123456789abcdef';
      await cold.rotateSecret!(clientId, operation(false));
      await cold.drained?.();
      expect(await idp.clientCredentials(clientId, 'set-in-the-admin-ui-0123456789abcdef')).toBe(true);
      expect(await idp.clientCredentials(clientId, created.body.client_secret as string)).toBe(false);
    } finally {
      await restarted.close();
      await cold.close?.();
      await first.close();
    }
  });

  it('writes nothing but the secret: a change made to the entity since the bridge read it stays', async () => {
    const adapter = adapterOn();
    try {
      const created = await adapter.createClient(parseRegistration(konnectApplication()), operation(true));
      const entity = idp.entity(created.clientId);
      if (!entity) throw new Error('no entity');
      // Changed at FusionAuth after the create (which core remembers): a PUT of the remembered entity would undo it.
      entity.name = 'Renamed in the admin UI';
      entity.data = { ...entity.data, note: 'kept' };
      const rotated = await adapter.rotateSecret!(created.clientId, operation(true));
      await adapter.drained?.();
      expect(idp.entity(created.clientId)).toMatchObject({
        name: 'Renamed in the admin UI',
        data: { note: 'kept', dcrBridgeManaged: true },
      });
      expect(await idp.clientCredentials(created.clientId, rotated.clientSecret)).toBe(true);
    } finally {
      await adapter.close?.();
    }
  });
});

describe('the fake', () => {
  it('returns the clientSecret on GET, merges a PATCH into the entity, and its token endpoint accepts only the current secret', async () => {
    const id = idp.createForeignEntity('Secret check');
    const headers = { authorization: idp.apiKey, 'x-fusionauth-tenantid': idp.tenantId, 'content-type': 'application/json' };
    const read = await fetch(`${idp.url}/api/entity/${id}`, { headers });
    const old = ((await read.json()) as { entity: { clientSecret: string } }).entity.clientSecret;
    expect(old).toBe(idp.entity(id)?.clientSecret);
    const patched = await fetch(`${idp.url}/api/entity/${id}`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ entity: { clientSecret: 'y'.repeat(40), data: { added: true } } }),
    });
    expect(patched.status).toBe(200);
    expect(idp.entity(id)).toMatchObject({ name: 'Secret check', clientSecret: 'y'.repeat(40), data: { added: true } });
    expect(await idp.clientCredentials(id, 'y'.repeat(40))).toBe(true);
    expect(await idp.clientCredentials(id, old)).toBe(false);
    const unknown = await fetch(`${idp.url}/api/entity/00000000-0000-4000-8000-000000000000`, {
      method: 'PATCH',
      headers,
      body: '{"entity":{}}',
    });
    expect(unknown.status).toBe(404);
  });
});
