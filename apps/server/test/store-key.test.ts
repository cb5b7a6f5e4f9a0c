import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEncryptedStore, silentLogger } from '@dcr-bridge/core';
import { createSqliteDriver } from '@dcr-bridge/store-sqlite';
import { loadConfig, startServer } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dcr-store-key-'));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the store key', () => {
  it('must open the records already stored: a server started with another key refuses to start, saying what to do', async () => {
    const storePath = join(dir, 'state.sqlite');
    const written = randomBytes(32).toString('base64');
    const driver = createSqliteDriver({ path: storePath });
    await createEncryptedStore({ driver, keys: [Buffer.from(written, 'base64')] }).set('rfc7591/client/abc', {
      registrationClientUri: 'https://idp.example.com/reg/abc',
    });
    await driver.close();

    const env = (key: string) => ({
      DCR_BRIDGE_ADAPTER: 'rfc7591',
      DCR_BRIDGE_API_KEYS: 'store_key_api_key_0123',
      RFC7591_REGISTRATION_ENDPOINT: 'http://127.0.0.1:9/reg',
      RFC7591_ALLOW_INSECURE_HTTP: 'true',
      DCR_BRIDGE_STORE: storePath,
      DCR_BRIDGE_JOURNAL: join(dir, 'journal'),
      DCR_BRIDGE_STORE_KEY: key,
      PORT: '0',
      HOST: '127.0.0.1',
    });
    const other = await loadConfig(env(randomBytes(32).toString('base64')));
    await expect(startServer(other.config!, { logger: silentLogger })).rejects.toThrow(
      `DCR_BRIDGE_STORE_KEY does not open the records in ${storePath}`,
    );

    // A rotation: the new key first, the old one kept.
    const rotated = await loadConfig(env(`${randomBytes(32).toString('base64')},${written}`));
    const running = await startServer(rotated.config!, { logger: silentLogger });
    await running.close();
  });
});
