import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEncryptedStore } from '@dcr-bridge/core';
import { createSqliteDriver } from '../src/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dcr-sqlite-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('createSqliteDriver', () => {
  it('keeps values across a close and reopen, like a restart', async () => {
    const path = join(dir, 'nested', 'state.sqlite');
    const first = createSqliteDriver({ path });
    await first.set('client-a', 'value-a');
    await first.set('client-b', 'value-b');
    await first.set('client-a', 'value-a2');
    await first.delete('client-b');
    await first.close();
    const second = createSqliteDriver({ path });
    expect(await second.get('client-a')).toBe('value-a2');
    expect(await second.get('client-b')).toBeUndefined();
    expect(await second.get('never')).toBeUndefined();
    await second.close();
  });

  it('lists the keys under a prefix in key order, committed and pending alike, across a reopen', async () => {
    const path = join(dir, 'state.sqlite');
    const driver = createSqliteDriver({ path });
    await driver.set('journal/b', '2');
    await driver.set('journal/a', '1');
    await driver.set('journalx', 'not under the prefix');
    await driver.set('client-1', 'other');
    const pending = [driver.set('journal/c', '3'), driver.delete('journal/b')];
    expect(await driver.list('journal/')).toEqual([
      ['journal/a', '1'],
      ['journal/c', '3'],
    ]);
    await Promise.all(pending);
    await driver.close();
    const reopened = createSqliteDriver({ path });
    expect(await reopened.list('journal/')).toEqual([
      ['journal/a', '1'],
      ['journal/c', '3'],
    ]);
    expect(await reopened.list('nothing/')).toEqual([]);
    await reopened.close();
  });

  it('creates the file readable by its owner only', async () => {
    const path = join(dir, 'state.sqlite');
    const driver = createSqliteDriver({ path });
    await driver.set('k', 'v');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir)).isDirectory()).toBe(true);
    await driver.close();
  });

  it('serves many interleaved writes and reads', async () => {
    const driver = createSqliteDriver({ path: join(dir, 'state.sqlite') });
    await Promise.all(Array.from({ length: 200 }, (_, i) => driver.set(`k${i}`, `v${i}`)));
    const values = await Promise.all(Array.from({ length: 200 }, (_, i) => driver.get(`k${i}`)));
    expect(values).toEqual(Array.from({ length: 200 }, (_, i) => `v${i}`));
    await driver.close();
  });

  it('commits a burst of writes together, durably, and reads its own writes before the commit', async () => {
    const path = join(dir, 'state.sqlite');
    const driver = createSqliteDriver({ path });
    await driver.set('gone', 'soon');
    const writes = Array.from({ length: 100 }, (_, i) => driver.set(`burst-${i}`, `v${i}`));
    const removal = driver.delete('gone');
    expect(await driver.get('burst-7')).toBe('v7');
    expect(await driver.get('gone')).toBeUndefined();
    await Promise.all([...writes, removal]);
    await driver.close();
    const reopened = createSqliteDriver({ path });
    expect(await reopened.get('burst-99')).toBe('v99');
    expect(await reopened.get('gone')).toBeUndefined();
    await reopened.close();
  });

  it('writes what is still pending when it closes', async () => {
    const path = join(dir, 'state.sqlite');
    const driver = createSqliteDriver({ path });
    const pendingWrite = driver.set('last', 'word');
    await driver.close();
    await pendingWrite;
    const reopened = createSqliteDriver({ path });
    expect(await reopened.get('last')).toBe('word');
    await reopened.close();
  });

  it('passes its readiness check while open and fails clearly once closed', async () => {
    const driver = createSqliteDriver({ path: join(dir, 'state.sqlite') });
    await expect(driver.check()).resolves.toBeUndefined();
    await driver.close();
    await driver.close();
    await expect(driver.check()).rejects.toThrow(/is closed/);
    await expect(driver.get('k')).rejects.toThrow(/is closed/);
    await expect(driver.set('k', 'v')).rejects.toThrow(/is closed/);
  });

  it("with core's encrypted store, keeps no plaintext on disk", async () => {
    const path = join(dir, 'state.sqlite');
    const key = new Uint8Array(randomBytes(32));
    const store = createEncryptedStore({ driver: createSqliteDriver({ path }), keys: [key] });
    const secret = `registration-access-token-${randomBytes(8).toString('hex')}`;
    await store.set('client-1', { registrationAccessToken: secret, registrationClientUri: 'https://idp.example.com/reg/client-1' });
    await store.close();
    const bytes = readFileSync(path);
    expect(bytes.includes(Buffer.from(secret))).toBe(false);
    expect(bytes.includes(Buffer.from('idp.example.com'))).toBe(false);
    const reopened = createEncryptedStore({ driver: createSqliteDriver({ path }), keys: [key] });
    expect(await reopened.get('client-1')).toEqual({
      registrationAccessToken: secret,
      registrationClientUri: 'https://idp.example.com/reg/client-1',
    });
    await reopened.close();
  });
});
