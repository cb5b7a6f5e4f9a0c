import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BridgeError, createEncryptedStore, createMemoryDriver, parseStoreKey, type StoreDriver } from '../src/index.js';

const key = () => new Uint8Array(randomBytes(32));

function recordingDriver(): StoreDriver & { rows: Map<string, string> } {
  const rows = new Map<string, string>();
  return {
    rows,
    get: async (k) => rows.get(k),
    set: async (k, v) => void rows.set(k, v),
    delete: async (k) => void rows.delete(k),
    list: async (prefix) => [...rows].filter(([k]) => k.startsWith(prefix)),
    check: async () => undefined,
    close: async () => undefined,
  };
}

describe('createEncryptedStore', () => {
  it('round-trips records and keeps nothing readable in the driver', async () => {
    const driver = recordingDriver();
    const store = createEncryptedStore({ driver, keys: [key()] });
    const record = { registrationAccessToken: 'rat-very-secret', registrationClientUri: 'https://idp/reg/abc' };
    await store.set('client-1', record);
    expect(await store.get('client-1')).toEqual(record);
    const sealed = driver.rows.get('client-1') ?? '';
    expect(sealed.split('.')).toHaveLength(5);
    expect(sealed).not.toContain('rat-very-secret');
    expect(Buffer.from(sealed.split('.')[3] ?? '', 'base64url').toString()).not.toContain('rat-very-secret');
    expect(await store.get('missing')).toBeUndefined();
    await store.delete('client-1');
    expect(await store.get('client-1')).toBeUndefined();
  });

  it('decrypts with an older key after rotation and encrypts with the newest', async () => {
    const driver = recordingDriver();
    const [oldKey, newKey] = [key(), key()];
    await createEncryptedStore({ driver, keys: [oldKey] }).set('a', { v: 1 });
    const rotated = createEncryptedStore({ driver, keys: [newKey, oldKey] });
    expect(await rotated.get('a')).toEqual({ v: 1 });
    await rotated.set('b', { v: 2 });
    expect(await createEncryptedStore({ driver, keys: [newKey] }).get('b')).toEqual({ v: 2 });
    const withoutOld = createEncryptedStore({ driver, keys: [newKey] });
    await expect(withoutOld.get('a')).rejects.toThrow(/no longer has/);
  });

  it('refuses a record moved to another key (rows swapped in the database)', async () => {
    const driver = recordingDriver();
    const store = createEncryptedStore({ driver, keys: [key()] });
    await store.set('victim', { owner: 'victim' });
    driver.rows.set('attacker', driver.rows.get('victim') ?? '');
    await expect(store.get('attacker')).rejects.toBeInstanceOf(BridgeError);
  });

  it('refuses a tampered ciphertext', async () => {
    const driver = recordingDriver();
    const store = createEncryptedStore({ driver, keys: [key()] });
    await store.set('a', { v: 1 });
    const parts = (driver.rows.get('a') ?? '').split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    driver.rows.set('a', parts.join('.'));
    await expect(store.get('a')).rejects.toThrow();
  });

  it('passes check and close to the driver', async () => {
    const store = createEncryptedStore({ driver: createMemoryDriver(), keys: [key()] });
    await expect(store.check()).resolves.toBeUndefined();
    await store.set('a', 1);
    await store.close();
    expect(await store.get('a')).toBeUndefined();
  });

  it("passes a shared driver's lock through, and has none over a driver one process owns", async () => {
    const held: string[] = [];
    const driver: StoreDriver = { ...createMemoryDriver(), exclusive: async (name, work) => (held.push(name), work()) };
    const store = createEncryptedStore({ driver, keys: [key()] });
    expect(await store.exclusive?.('client:a', async () => 'done')).toBe('done');
    expect(held).toEqual(['client:a']);
    expect(createEncryptedStore({ driver: createMemoryDriver(), keys: [key()] }).exclusive).toBeUndefined();
  });
});

describe('parseStoreKey', () => {
  it('reads 32 bytes of base64 or base64url', () => {
    const bytes = randomBytes(32);
    expect(Buffer.from(parseStoreKey(bytes.toString('base64')))).toEqual(bytes);
    expect(Buffer.from(parseStoreKey(` ${bytes.toString('base64url')} `))).toEqual(bytes);
  });

  it('refuses anything else, saying how to make a key, without echoing the value', () => {
    for (const bad of ['short', randomBytes(16).toString('base64'), 'not base64 at all !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!']) {
      expect(() => parseStoreKey(bad)).toThrow(/openssl rand -base64 32/);
      try {
        parseStoreKey(bad);
      } catch (error) {
        expect((error as Error).message).not.toContain(bad);
      }
    }
  });
});
