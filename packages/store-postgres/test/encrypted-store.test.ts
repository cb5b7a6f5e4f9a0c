import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createEncryptedStore, createJsonStore, type StoreDriver } from '@dcr-bridge/core';
import { databaseUrl, freshSchema, openDriver } from './helpers.js';

const key = () => new Uint8Array(randomBytes(32));
let drivers: StoreDriver[] = [];
afterEach(async () => {
  await Promise.all(drivers.map((driver) => driver.close()));
  drivers = [];
});

function open(schema: string): StoreDriver {
  const driver = openDriver({ schema });
  drivers.push(driver);
  return driver;
}

async function rows(schema: string): Promise<Array<{ key: string; value: string }>> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    return (await client.query<{ key: string; value: string }>(`SELECT key, value FROM "${schema}".dcr_bridge_records ORDER BY key`)).rows;
  } finally {
    await client.end();
  }
}

describe("core's encrypted store on PostgreSQL", () => {
  it('round-trips a record, and the table holds ciphertext only', async () => {
    const schema = freshSchema();
    const store = createEncryptedStore({ driver: open(schema), keys: [key()] });
    const record = { registrationClientUri: 'https://idp.example.com/register/abc', registrationAccessToken: 'rat-super-secret-value' };
    await store.set('client:abc', record);
    expect(await store.get('client:abc')).toEqual(record);
    expect(await store.list('client:')).toEqual([['client:abc', record]]);
    const [row, ...others] = await rows(schema);
    expect(others).toEqual([]);
    expect(row?.key).toBe('client:abc');
    expect(row?.value.split('.')).toHaveLength(5); // JWE compact
    for (const plaintext of ['rat-super-secret-value', 'idp.example.com', 'registrationAccessToken'])
      expect(row?.value).not.toContain(plaintext);
  });

  it('reads rows written with the old key after rotation (new key first), and writes with the new one', async () => {
    const schema = freshSchema();
    const [oldKey, newKey] = [key(), key()];
    await createEncryptedStore({ driver: open(schema), keys: [oldKey] }).set('client:a', { v: 1 });
    const rotated = createEncryptedStore({ driver: open(schema), keys: [newKey, oldKey] });
    expect(await rotated.get('client:a')).toEqual({ v: 1 });
    await rotated.set('client:b', { v: 2 });
    expect(await createEncryptedStore({ driver: open(schema), keys: [newKey] }).get('client:b')).toEqual({ v: 2 });
    await expect(createEncryptedStore({ driver: open(schema), keys: [newKey] }).get('client:a')).rejects.toThrow(
      'encrypted with a key the bridge no longer has',
    );
  });

  it('refuses a row moved to another key', async () => {
    const schema = freshSchema();
    const driver = open(schema);
    const store = createEncryptedStore({ driver, keys: [key()] });
    await store.set('client:a', { v: 'a' });
    await driver.set('client:b', (await driver.get('client:a')) as string);
    await expect(store.get('client:b')).rejects.toThrow('belongs to another key');
  });

  it('passes exclusive through the encrypted and JSON stores', async () => {
    const schema = freshSchema();
    const driver = open(schema);
    const encrypted = createEncryptedStore({ driver, keys: [key()] });
    const journal = createJsonStore(driver);
    expect(await encrypted.exclusive?.('client:a', async () => 'encrypted')).toBe('encrypted');
    expect(await journal.exclusive?.('client:a', async () => 'journal')).toBe('journal');
  });
});
