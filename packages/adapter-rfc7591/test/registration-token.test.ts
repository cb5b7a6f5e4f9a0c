import { randomBytes } from 'node:crypto';
import { createEncryptedStore, createMemoryDriver, type StateStore } from '@dcr-bridge/core';
import {
  createCapturingLogger,
  konnectApplication,
  konnectEvent,
  startBridge,
  type BridgeHarness,
  type HarnessResponse,
} from '@dcr-bridge/conformance';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRfc7591Adapter } from '../src/index.js';
import { startTestProvider, type TestProvider, registrationApi } from './oidc-provider.js';

/**
 * The registration access token under faults. oidc-provider (like Keycloak) rotates it on every RFC 7592
 * update, so an update whose answer is lost takes the only key to the client with it. The bridge must
 * keep every token it can get, never repeat an update blindly, and never take a refused token for a
 * client that is gone.
 */
let idp: TestProvider;
let store: StateStore;
let adapter: ReturnType<typeof createRfc7591Adapter>;
let bridge: BridgeHarness;
const REGISTRATION = /^\/reg\/[^/]+$/;
// Long enough for a cold create on a loaded 2-core CI machine (the first one runs discovery and warms
// oidc-provider up); a lost answer costs each test that long.
const OPERATION_TIMEOUT_MS = 3_000;
/** An IdP answer that comes after Konnect was told 504, within the bridge's completion budget. */
const LATE_MS = OPERATION_TIMEOUT_MS + 1_000;
const logger = createCapturingLogger();
/** What the log line of an answer's request says failed (the operator's detail; Konnect reads a fixed text). */
const loggedFailure = (res: HarnessResponse) =>
  String(
    logger.lines.find((line) => line.msg === 'adapter call failed' && line.requestId === res.headers.get('x-request-id'))?.description,
  );

beforeAll(async () => {
  idp = await startTestProvider();
  store = createEncryptedStore({ driver: createMemoryDriver(), keys: [new Uint8Array(randomBytes(32))] });
  adapter = createRfc7591Adapter({
    issuer: idp.issuer,
    initialAccessToken: await idp.rotatingInitialAccessToken(),
    store,
    allowInsecureHttp: true,
  });
  bridge = await startBridge(adapter, { operationTimeoutMs: OPERATION_TIMEOUT_MS, logger });
});
afterAll(async () => {
  await bridge.close();
  await adapter.close?.();
  await idp.close();
});
afterEach(async () => {
  await idp.faults.settle();
  await adapter.drained?.();
});

async function created(): Promise<{ clientId: string; secret: string }> {
  const res = await bridge.call('POST', '/', { body: konnectApplication() });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { clientId: res.body.client_id, secret: res.body.client_secret };
}

describe('an RFC 7592 update whose answer never arrives', () => {
  it('never lets Konnect believe the client is deleted while it still exists (no zombie)', async () => {
    const { clientId } = await created();
    idp.faults.faultNext('PUT', REGISTRATION, 'processed_answer_lost');
    const rotated = await bridge.call('POST', `/${clientId}/new-secret`);
    expect(rotated.status).toBeGreaterThanOrEqual(500);
    const deleted = await bridge.call('DELETE', `/${clientId}`);
    expect(deleted.status).toBe(502);
    expect(deleted.body.error).toBe('idp_error');
    expect(loggedFailure(deleted)).toContain(`can no longer manage client ${clientId}`);
    expect(await idp.storedClient(clientId)).toBeDefined();
    expect(await store.get(clientId)).toMatchObject({ state: 'lost' });
  });

  it('keeps the client manageable when the update never reached the IdP, and does not repeat it', async () => {
    const { clientId, secret } = await created();
    idp.faults.faultNext('PUT', REGISTRATION, 'reset_before');
    const puts = () => idp.requests.filter((line) => line.startsWith(`PUT /reg/${clientId}`)).length;
    expect((await bridge.call('POST', `/${clientId}/new-secret`)).status).toBe(502);
    expect(puts()).toBe(1);
    expect(await idp.canGetToken(clientId, secret)).toBe(true);
    const rotated = await bridge.call('POST', `/${clientId}/new-secret`);
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(await idp.canGetToken(clientId, rotated.body.client_secret)).toBe(true);
    expect(await idp.canGetToken(clientId, secret)).toBe(false);
    expect((await bridge.call('DELETE', `/${clientId}`)).status).toBe(204);
    expect(await idp.storedClient(clientId)).toBeUndefined();
  });

  it('keeps the new token of an update answered after Konnect was told 504', async () => {
    const { clientId, secret } = await created();
    idp.faults.faultNext('PUT', REGISTRATION, 'processed_answer_late', { delayMs: LATE_MS });
    const late = await bridge.call('POST', `/${clientId}/event-hook`, {
      body: konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://late.example.com/cb'] }),
    });
    expect(late.status).toBe(504);
    await idp.faults.settle();
    await adapter.drained?.();
    expect((await idp.storedClient(clientId))?.redirect_uris).toEqual(['https://late.example.com/cb']);
    const rotated = await bridge.call('POST', `/${clientId}/new-secret`);
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(await idp.canGetToken(clientId, secret)).toBe(false);
    expect(await idp.canGetToken(clientId, rotated.body.client_secret)).toBe(true);
    expect((await bridge.call('DELETE', `/${clientId}`)).status).toBe(204);
    expect(await idp.storedClient(clientId)).toBeUndefined();
  });
});

describe('deletes', () => {
  it('a delete whose first answer was lost is finished, and the client is really gone', async () => {
    const { clientId, secret } = await created();
    idp.faults.faultNext('DELETE', REGISTRATION, 'processed_answer_lost');
    expect((await bridge.call('DELETE', `/${clientId}`)).status).toBe(204);
    expect(await idp.storedClient(clientId)).toBeUndefined();
    expect(await idp.canGetToken(clientId, secret)).toBe(false);
    expect(await store.get(clientId)).toBeUndefined();
    expect((await bridge.call('DELETE', `/${clientId}`)).status).toBe(204);
  });

  it('a delete answered after Konnect was told 504 is recognised as done when Konnect asks again', async () => {
    const { clientId } = await created();
    idp.faults.faultNext('DELETE', REGISTRATION, 'processed_answer_late', { delayMs: LATE_MS });
    expect((await bridge.call('DELETE', `/${clientId}`)).status).toBe(504);
    // Konnect asks again later (a retry queued behind the running delete would not start after its deadline).
    await idp.faults.settle();
    expect((await bridge.call('DELETE', `/${clientId}`)).status).toBe(204);
    expect(await idp.storedClient(clientId)).toBeUndefined();
  });

  it('a delete retried after one whose outcome stayed unknown takes a refused token for "gone"', async () => {
    const { clientId, secret } = await created();
    // What an earlier delete leaves when it went through but neither its answer nor its repeats came back.
    const record = await store.get<{ registrationClientUri: string; registrationAccessToken: string }>(clientId);
    await store.set(clientId, { ...record, state: 'deleting' });
    expect(
      (
        await fetch(record?.registrationClientUri ?? '', {
          method: 'DELETE',
          headers: { authorization: `Bearer ${record?.registrationAccessToken}` },
        })
      ).status,
    ).toBe(204);
    expect((await bridge.call('DELETE', `/${clientId}`)).status).toBe(204);
    expect(await store.get(clientId)).toBeUndefined();
    expect(await idp.canGetToken(clientId, secret)).toBe(false);
  });

  it('a delete after an update whose outcome stayed unknown settles it first: the client is deleted when the update never happened', async () => {
    const { clientId, secret } = await created();
    const record = await store.get<Record<string, unknown>>(clientId);
    await store.set(clientId, { ...record, state: 'writing' });
    const calls = idp.requests.length;
    expect((await bridge.call('DELETE', `/${clientId}`)).status).toBe(204);
    expect(idp.requests.slice(calls)).toEqual([`GET /reg/${clientId}`, `DELETE /reg/${clientId}`]);
    expect(await idp.storedClient(clientId)).toBeUndefined();
    expect(await idp.canGetToken(clientId, secret)).toBe(false);
    expect(await store.get(clientId)).toBeUndefined();
  });

  it('a delete after an update whose outcome stayed unknown and which rotated the token answers 502 and keeps the record', async () => {
    const { clientId, secret } = await created();
    const record = await store.get<{ registrationAccessToken: string }>(clientId);
    await store.set(clientId, { ...record, state: 'writing' });
    // The update went through: the IdP replaced the token the bridge holds.
    await (await idp.provider.RegistrationAccessToken.find(record?.registrationAccessToken ?? ''))?.destroy();
    const deleted = await bridge.call('DELETE', `/${clientId}`);
    expect(deleted.status).toBe(502);
    expect(loggedFailure(deleted)).toContain(`can no longer manage client ${clientId}`);
    expect(await idp.canGetToken(clientId, secret)).toBe(true);
    expect(await store.get(clientId)).toMatchObject({ state: 'lost' });
  });

  it('a registration access token refused out of the blue is never taken for "already gone"', async () => {
    const { clientId, secret } = await created();
    const record = await store.get<{ registrationAccessToken: string }>(clientId);
    await (await idp.provider.RegistrationAccessToken.find(record?.registrationAccessToken ?? ''))?.destroy();
    const deleted = await bridge.call('DELETE', `/${clientId}`);
    expect(deleted.status).toBe(502);
    expect(loggedFailure(deleted)).toContain('refuses its registration access token');
    expect(await idp.canGetToken(clientId, secret)).toBe(true);
    expect(await store.get(clientId)).toBeDefined();
  });
});

// Every registration request and RFC 7592 call the provider saw, and its answers, against RFC 7591/7592 (test/vendor).
afterAll(() => registrationApi.expectNoProblems());
