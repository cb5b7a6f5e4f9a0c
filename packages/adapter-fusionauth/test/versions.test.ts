import { parseRegistration } from '@dcr-bridge/core/http';
import { konnectApplication, operationContext } from '@dcr-bridge/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFusionauthAdapter } from '../src/index.js';
import { withinSupported } from '../src/diagnostics.js';
import { startFakeFusionauth, type FakeFusionauth } from './fake-fusionauth.js';

// README, "Supported versions": 1.57.0 and later. The generation before it has no PATCH on an entity, which rotation
// (and putting Konnect's secret back) needs; everything else the adapter calls is the same in both.
const operation = (answered = true) => operationContext({ answered: Promise.resolve(answered) });

describe.each([
  { version: '1.69.0', supported: true },
  { version: '1.57.0', supported: true },
  { version: '1.56.1', supported: false },
])('FusionAuth $version', ({ version, supported }) => {
  let idp: FakeFusionauth;
  let adapter: ReturnType<typeof createFusionauthAdapter>;
  beforeAll(async () => {
    idp = await startFakeFusionauth({ version });
    adapter = createFusionauthAdapter({
      baseUrl: idp.url,
      apiKey: idp.apiKey,
      tenantId: idp.tenantId,
      entityTypeId: idp.entityTypeId,
      targetEntityId: idp.targetEntityId,
    });
  });
  afterAll(async () => {
    await adapter.close?.();
    await idp.close();
    idp.api.expectNoProblems();
  });

  it(`doctor names the version, ${supported ? 'within' : 'outside'} the supported range`, async () => {
    expect(await adapter.diagnostics?.idpVersion?.(operation())).toMatchObject({
      product: 'FusionAuth',
      version,
      supported: '1.57.0 and later',
      withinSupported: supported,
    });
    const patch = (await adapter.diagnostics?.checkPermissions(operation()))?.find(
      (check) => check.name === 'permission: PATCH /api/entity',
    );
    expect(patch?.result).toBe(supported ? 'pass' : 'warn');
  });

  it('creates, and deletes, the same way', async () => {
    const created = await adapter.createClient(parseRegistration(konnectApplication({ scopes: ['read:orders'] })), operation());
    expect(await idp.clientCredentials(created.clientId, created.clientSecret)).toBe(true);
    await adapter.deleteClient(created.clientId, operation());
    expect(idp.entity(created.clientId)).toBeUndefined();
  });

  it(supported ? 'rotates by PATCH' : 'refuses a rotation, changing nothing: the secret Konnect holds keeps working', async () => {
    const created = await adapter.createClient(parseRegistration(konnectApplication()), operation());
    if (supported) {
      const rotated = await adapter.rotateSecret!(created.clientId, operation());
      expect(await idp.clientCredentials(created.clientId, rotated.clientSecret)).toBe(true);
      expect(await idp.clientCredentials(created.clientId, created.clientSecret)).toBe(false);
    } else {
      await expect(adapter.rotateSecret!(created.clientId, operation())).rejects.toMatchObject({ code: 'unsupported_operation' });
      await adapter.drained?.();
      expect(await idp.clientCredentials(created.clientId, created.clientSecret)).toBe(true);
    }
  });
});

describe('the supported range', () => {
  it.each([
    ['1.57.0', true],
    ['1.57.1', true],
    ['1.100.0', true],
    ['2.0.0', true],
    ['1.56.99', false],
    ['0.9.0', false],
    ['nightly', undefined],
  ])('%s → %s', (version, expected) => expect(withinSupported(version)).toBe(expected));
});
