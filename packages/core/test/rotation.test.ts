import { afterEach, describe, expect, it } from 'vitest';
import {
  BridgeError,
  createJsonStore,
  createMemoryDriver,
  defineDcrAdapter,
  type DcrAdapter,
  type IdpPrimitives,
  type LifecycleSettings,
  type OperationContext,
  type StoreDriver,
} from '../src/index.js';
import { ANY_REGISTRATION } from './fixtures.js';
import { createJsonLogger } from '../src/http.js';
import { captureLines } from './helpers.js';

/**
 * Rotations Konnect did not get, in each mode, on an IdP in memory whose secret calls can lose their answer
 * (done, then an error) or land late (an error now, done after a delay).
 */
type Mode = 'two-secrets' | 'restore' | 'replace';
type Fault = { kind: 'lost' } | { kind: 'late'; ms: number } | { kind: 'refused' } | { kind: 'held'; until: Promise<void> };

function memoryIdp(mode: Mode) {
  /** client id → its working secrets, oldest first. */
  const secrets = new Map<string, Array<{ id: string; value: string }>>();
  const calls: string[] = [];
  const faults: Fault[] = [];
  let counter = 0;
  const fresh = () => ({ id: `s${++counter}`, value: `secret-${counter}` });

  /** Runs `change` under the next fault, if any. */
  async function withFault(change: () => void): Promise<void> {
    const fault = faults.shift();
    if (!fault) return change();
    if (fault.kind === 'refused') throw new BridgeError('invalid_client_metadata', 'refused');
    if (fault.kind === 'held') {
      await fault.until;
      return change();
    }
    if (fault.kind === 'lost') {
      change();
      throw new BridgeError('idp_unavailable', 'the connection was reset');
    }
    setTimeout(change, fault.ms);
    throw new BridgeError('idp_timeout', 'no answer in time');
  }

  const base: IdpPrimitives<{ id: string }> = {
    id: 'memory',
    idpName: 'Memory IdP',
    marker: 'ours',
    find: async (clientId) => (secrets.has(clientId) ? { id: clientId } : undefined),
    isOurs: () => true,
    registration: ANY_REGISTRATION,
    async create(_registration, context) {
      const clientId = `client-${++counter}`;
      const secret = fresh();
      secrets.set(clientId, [secret]);
      await context.created(clientId, { id: clientId });
      return { clientId, clientSecret: secret.value };
    },
    remove: async (clientId) => void secrets.delete(clientId),
    checkReady: async () => ({ ready: true }),
  };
  const twoSecrets: Partial<IdpPrimitives<{ id: string }>> = {
    secrets: {
      max: 2,
      async list(clientId) {
        calls.push('list');
        return (secrets.get(clientId) ?? []).map(({ id }) => ({ id }));
      },
      async add(clientId) {
        calls.push('add');
        const secret = fresh();
        const list = secrets.get(clientId) ?? [];
        if (list.length >= 2) throw new BridgeError('invalid_client_metadata', 'at most two secrets');
        await withFault(() => secrets.get(clientId)?.push(secret));
        return { ...secret, secret: secret.value };
      },
      async remove(clientId, _client, secretId) {
        calls.push('remove');
        secrets.set(
          clientId,
          (secrets.get(clientId) ?? []).filter(({ id }) => id !== secretId),
        );
      },
    },
  };
  const rotateSecret = async (clientId: string) => {
    calls.push('rotate');
    const secret = fresh();
    await withFault(() => secrets.set(clientId, [secret]));
    return secret.value;
  };
  const restore: Partial<IdpPrimitives<{ id: string }>> = {
    rotateSecret,
    secretValue: {
      async read(clientId) {
        calls.push('read');
        return secrets.get(clientId)?.[0]?.value ?? '';
      },
      async set(clientId, _client, value) {
        calls.push('set');
        secrets.set(clientId, [{ id: `s${++counter}`, value }]);
      },
    },
  };
  return {
    primitives: { ...base, ...(mode === 'two-secrets' ? twoSecrets : mode === 'restore' ? restore : { rotateSecret }) },
    calls,
    faults,
    works: (clientId: string, value: string) => (secrets.get(clientId) ?? []).some((secret) => secret.value === value),
    count: (clientId: string) => secrets.get(clientId)?.length ?? 0,
  };
}

/** A Konnect call whose answer Konnect takes (`true`), never gets (`false`), or that is still leaving (`pending`). */
function konnectCall(answer: boolean | 'pending' = true): OperationContext & { deliver(answered: boolean): void } {
  let deliver: (answered: boolean) => void = () => {};
  const answered = answer === 'pending' ? new Promise<boolean>((resolve) => (deliver = resolve)) : Promise.resolve(answer);
  const logger = createJsonLogger({ level: 'error', write: () => {} });
  return {
    signal: new AbortController().signal,
    deadline: new AbortController().signal,
    answered,
    logger,
    requestId: 'test',
    deliver: (value) => deliver(value),
  };
}

const opened: DcrAdapter[] = [];
afterEach(async () => {
  for (const adapter of opened.splice(0)) await adapter.close?.();
});

function adapterOn(
  idp: ReturnType<typeof memoryIdp>,
  driver: StoreDriver,
  settings: LifecycleSettings & { logger?: ReturnType<typeof createJsonLogger> } = {},
) {
  const journal = createJsonStore(driver);
  const adapter = defineDcrAdapter(idp.primitives, { journal, vault: journal, inFlightMs: 300, ...settings });
  opened.push(adapter);
  return adapter;
}

async function createdClient(adapter: DcrAdapter) {
  const registration = {
    clientName: 'app',
    description: '',
    redirectUris: [],
    grantTypes: ['client_credentials' as const],
    requestedGrantTypes: ['client_credentials'],
    scopes: [],
    tokenEndpointAuthMethod: 'client_secret_post',
    konnect: { portalId: 'p', organizationId: 'o', developerId: 'd', authStrategyId: 'a', dcrProviderId: 'r' },
  };
  return adapter.createClient(registration, konnectCall());
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a rotation whose IdP call is held, and "kills" the process while it is: a copy of the journal as it
 * was then (what the next process finds), the adapter closed (it does nothing more at the IdP). `release` lets
 * the IdP finish the call.
 */
async function crashDuringIdpCall(idp: ReturnType<typeof memoryIdp>, adapter: DcrAdapter, driver: StoreDriver, clientId: string) {
  let release = () => {};
  idp.faults.push({ kind: 'held', until: new Promise<void>((resolve) => (release = resolve)) });
  const dying = adapter.rotateSecret?.(clientId, konnectCall(false)).catch(() => undefined);
  await sleep(20);
  const disk = createMemoryDriver();
  for (const [key, value] of await driver.list('')) await disk.set(key, value);
  await adapter.close?.();
  return {
    disk,
    release: () => {
      release();
      void dying;
    },
  };
}

describe('rotation: two secrets', () => {
  it('adds the new secret, then retires the old one once Konnect took the answer: list, add, remove', async () => {
    const idp = memoryIdp('two-secrets');
    const adapter = adapterOn(idp, createMemoryDriver());
    expect(adapter.rotation).toEqual({ mode: 'two-secrets', overlapMs: 0 });
    const { clientId, clientSecret: old } = await createdClient(adapter);
    const call = konnectCall('pending');
    const { clientSecret } = (await adapter.rotateSecret?.(clientId, call)) ?? { clientSecret: '' };
    expect(idp.works(clientId, old) && idp.works(clientId, clientSecret)).toBe(true);
    call.deliver(true);
    await adapter.drained?.();
    expect(idp.works(clientId, old)).toBe(false);
    expect(idp.works(clientId, clientSecret)).toBe(true);
    expect(idp.calls).toEqual(['list', 'add', 'remove']);
  });

  it('retires the new secret when Konnect did not get it: the old one keeps working', async () => {
    const idp = memoryIdp('two-secrets');
    const adapter = adapterOn(idp, createMemoryDriver());
    const { clientId, clientSecret: old } = await createdClient(adapter);
    const { clientSecret } = (await adapter.rotateSecret?.(clientId, konnectCall(false))) ?? { clientSecret: '' };
    await adapter.drained?.();
    expect(idp.works(clientId, old)).toBe(true);
    expect(idp.works(clientId, clientSecret)).toBe(false);
    expect(idp.count(clientId)).toBe(1);
  });

  it('retires a secret the IdP added though its answer was lost, and one it adds after the bridge gave up', async () => {
    const idp = memoryIdp('two-secrets');
    const adapter = adapterOn(idp, createMemoryDriver());
    const { clientId, clientSecret: old } = await createdClient(adapter);
    idp.faults.push({ kind: 'lost' });
    await expect(adapter.rotateSecret?.(clientId, konnectCall(false))).rejects.toMatchObject({ code: 'idp_unavailable' });
    await adapter.drained?.();
    expect(idp.count(clientId)).toBe(1);
    expect(idp.works(clientId, old)).toBe(true);

    idp.faults.push({ kind: 'late', ms: 100 });
    await expect(adapter.rotateSecret?.(clientId, konnectCall(false))).rejects.toMatchObject({ code: 'idp_timeout' });
    await sleep(150);
    expect(idp.count(clientId), 'the late secret landed').toBe(2);
    await adapter.drained?.();
    expect(idp.count(clientId), 'and was retired once it could no longer land (inFlightMs)').toBe(1);
    expect(idp.works(clientId, old)).toBe(true);
  });

  it('a refusal changes nothing and leaves no record', async () => {
    const idp = memoryIdp('two-secrets');
    const driver = createMemoryDriver();
    const adapter = adapterOn(idp, driver);
    const { clientId, clientSecret: old } = await createdClient(adapter);
    idp.faults.push({ kind: 'refused' });
    await expect(adapter.rotateSecret?.(clientId, konnectCall())).rejects.toMatchObject({ code: 'invalid_client_metadata' });
    await adapter.drained?.();
    expect(idp.works(clientId, old)).toBe(true);
    expect(await driver.list('dcr-bridge/rotation/')).toEqual([]);
  });

  it('after a crash mid-rotation, the next process retires what Konnect never got', async () => {
    const idp = memoryIdp('two-secrets');
    const driver = createMemoryDriver();
    const adapter = adapterOn(idp, driver);
    const { clientId, clientSecret: old } = await createdClient(adapter);
    const call = konnectCall('pending');
    await adapter.rotateSecret?.(clientId, call);
    // The process dies before Konnect took the answer: what it had written is what the next one finds.
    const disk = createMemoryDriver();
    for (const [key, value] of await driver.list('')) await disk.set(key, value);
    const restarted = adapterOn(idp, disk);
    await sleep(350);
    expect(await restarted.recover?.({ inFlightMs: 300 })).toMatchObject({ rotations: 1 });
    // The record says `answering`: Konnect may hold either secret, so both are kept until the next rotation.
    expect(idp.count(clientId)).toBe(2);
    const next = await restarted.rotateSecret?.(clientId, konnectCall());
    await restarted.drained?.();
    expect(idp.count(clientId)).toBe(1);
    expect(idp.works(clientId, next?.clientSecret ?? '')).toBe(true);
    expect(idp.works(clientId, old)).toBe(false);
    call.deliver(false);
  });

  it('after a crash while the IdP was adding the secret, the next process retires it once it can no longer land', async () => {
    const idp = memoryIdp('two-secrets');
    const driver = createMemoryDriver();
    const adapter = adapterOn(idp, driver);
    const { clientId, clientSecret: old } = await createdClient(adapter);
    const { disk, release } = await crashDuringIdpCall(idp, adapter, driver, clientId);
    release();
    await sleep(20);
    expect(idp.count(clientId), 'the IdP finished the add').toBe(2);
    const restarted = adapterOn(idp, disk);
    await sleep(300);
    await restarted.recover?.({ inFlightMs: 300 });
    expect(idp.count(clientId)).toBe(1);
    expect(idp.works(clientId, old)).toBe(true);
  });

  it('keeps the old secret for the overlap, also across a restart; a second rotation within it retires the oldest', async () => {
    const idp = memoryIdp('two-secrets');
    const driver = createMemoryDriver();
    const adapter = adapterOn(idp, driver, { rotationOverlapMs: 1_500 });
    const { clientId, clientSecret: first } = await createdClient(adapter);
    const second = (await adapter.rotateSecret?.(clientId, konnectCall()))?.clientSecret ?? '';
    await adapter.drained?.();
    expect(idp.works(clientId, first) && idp.works(clientId, second)).toBe(true);
    const third = (await adapter.rotateSecret?.(clientId, konnectCall()))?.clientSecret ?? '';
    await adapter.drained?.();
    expect(idp.works(clientId, first)).toBe(false);
    expect(idp.works(clientId, second) && idp.works(clientId, third)).toBe(true);
    await adapter.close?.();
    const restarted = adapterOn(idp, driver, { rotationOverlapMs: 1_500 });
    await restarted.recover?.({ inFlightMs: 300 });
    expect(idp.works(clientId, second)).toBe(true);
    await sleep(1_700);
    await restarted.drained?.();
    expect(idp.works(clientId, second)).toBe(false);
    expect(idp.works(clientId, third)).toBe(true);
  });

  it('holds the client until Konnect took the answer: the next rotation knows which secret Konnect has', async () => {
    const idp = memoryIdp('two-secrets');
    const adapter = adapterOn(idp, createMemoryDriver());
    const { clientId } = await createdClient(adapter);
    const first = konnectCall('pending');
    const one = (await adapter.rotateSecret?.(clientId, first))?.clientSecret ?? '';
    const second = adapter.rotateSecret?.(clientId, konnectCall());
    await sleep(20);
    first.deliver(true);
    const two = (await second)?.clientSecret ?? '';
    await adapter.drained?.();
    expect(idp.works(clientId, two)).toBe(true);
    expect(idp.works(clientId, one)).toBe(false);
  });
});

describe('rotation: restore', () => {
  it("puts Konnect's secret back when Konnect did not get the new one: read, rotate, then read and set", async () => {
    const idp = memoryIdp('restore');
    const adapter = adapterOn(idp, createMemoryDriver());
    expect(adapter.rotation?.mode).toBe('restore');
    const { clientId, clientSecret: old } = await createdClient(adapter);
    await adapter.rotateSecret?.(clientId, konnectCall(false));
    await adapter.drained?.();
    expect(idp.works(clientId, old)).toBe(true);
    expect(idp.calls).toEqual(['read', 'rotate', 'read', 'set']);
  });

  it('delivered: read and rotate, and the sealed secret is dropped at once', async () => {
    const idp = memoryIdp('restore');
    const driver = createMemoryDriver();
    const adapter = adapterOn(idp, driver);
    const { clientId, clientSecret: old } = await createdClient(adapter);
    const { clientSecret } = (await adapter.rotateSecret?.(clientId, konnectCall())) ?? { clientSecret: '' };
    await adapter.drained?.();
    expect(idp.works(clientId, clientSecret)).toBe(true);
    expect(idp.works(clientId, old)).toBe(false);
    expect(idp.calls).toEqual(['read', 'rotate']);
    expect(await driver.list('dcr-bridge/restore/')).toEqual([]);
  });

  it('puts it back again after a rotation that landed late, and after a crash', async () => {
    const idp = memoryIdp('restore');
    const driver = createMemoryDriver();
    const adapter = adapterOn(idp, driver);
    const { clientId, clientSecret: old } = await createdClient(adapter);
    idp.faults.push({ kind: 'late', ms: 100 });
    await expect(adapter.rotateSecret?.(clientId, konnectCall(false))).rejects.toMatchObject({ code: 'idp_timeout' });
    await sleep(150);
    expect(idp.works(clientId, old), 'the late rotation replaced it').toBe(false);
    await adapter.drained?.();
    expect(idp.works(clientId, old), 'put back once no rotation could land').toBe(true);

    const { disk, release } = await crashDuringIdpCall(idp, adapter, driver, clientId);
    release();
    await sleep(20);
    expect(idp.works(clientId, old), 'the IdP finished the rotation').toBe(false);
    const restarted = adapterOn(idp, disk);
    await sleep(300);
    await restarted.recover?.({ inFlightMs: 300 });
    await restarted.drained?.();
    expect(idp.works(clientId, old)).toBe(true);
  });

  it('refuses an overlap when the adapter is built, naming the IdP', () => {
    expect(() => defineDcrAdapter(memoryIdp('restore').primitives, { rotationOverlapMs: 1_000 })).toThrow(/Memory IdP .*overlap/);
  });
});

describe('rotation: replace', () => {
  it('logs at warn, with the client id, a rotation Konnect did not get, and one a dead process left', async () => {
    const idp = memoryIdp('replace');
    const captured = captureLines();
    const lines = () => captured.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const { write } = captured;
    const logger = createJsonLogger({ level: 'info', write });
    const driver = createMemoryDriver();
    const adapter = adapterOn(idp, driver, { logger });
    expect(adapter.rotation?.mode).toBe('replace');
    const { clientId } = await createdClient(adapter);
    await adapter.rotateSecret?.(clientId, konnectCall(false));
    await adapter.drained?.();
    expect(lines().filter((line) => line.level === 'warn' && line.clientId === clientId)).toHaveLength(1);

    const call = konnectCall('pending');
    await adapter.rotateSecret?.(clientId, call);
    const disk = createMemoryDriver();
    for (const [key, value] of await driver.list('')) await disk.set(key, value);
    const restarted = adapterOn(idp, disk, { logger });
    expect(await restarted.recover?.({ inFlightMs: 300 })).toMatchObject({ rotations: 1 });
    expect(lines().filter((line) => line.level === 'warn' && line.clientId === clientId)).toHaveLength(2);
    call.deliver(true);
  });
});
