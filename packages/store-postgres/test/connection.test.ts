import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { StoreDriver } from '@dcr-bridge/core';
import { parseConnection } from '../src/connection.js';
import { databaseUrl, openDriver } from './helpers.js';

const PASSWORD = 's3cr3t-p@ss/word';
const url = (query = '') => `postgres://bridge:${encodeURIComponent(PASSWORD)}@db.example.com:6543/dcr${query}`;

describe('parseConnection', () => {
  it('reads host, port, database, user and password, and names the target without the password', () => {
    const connection = parseConnection({ url: url() });
    expect(connection.client).toMatchObject({
      host: 'db.example.com',
      port: 6543,
      database: 'dcr',
      user: 'bridge',
      password: PASSWORD,
      ssl: false,
    });
    expect(connection.target).toBe('db.example.com:6543/dcr');
    expect(parseConnection({ url: 'postgresql://u@[::1]/db' }).client).toMatchObject({ host: '::1', port: 5432, database: 'db' });
  });

  it('follows libpq for sslmode: require encrypts without verifying, verify-ca checks the chain only, verify-full both', () => {
    expect(parseConnection({ url: url('?sslmode=disable') }).client.ssl).toBe(false);
    expect(parseConnection({ url: url('?sslmode=require') }).client.ssl).toEqual({ rejectUnauthorized: false });
    const requireWithCa = parseConnection({ url: url('?sslmode=require'), ca: 'PEM' }).client.ssl as {
      ca: string;
      checkServerIdentity: () => undefined;
    };
    expect(requireWithCa.ca).toBe('PEM');
    expect(requireWithCa.checkServerIdentity()).toBeUndefined();
    const verifyCa = parseConnection({ url: url('?sslmode=verify-ca'), ca: 'PEM' }).client.ssl as {
      ca: string;
      rejectUnauthorized?: boolean;
    };
    expect(verifyCa).toMatchObject({ ca: 'PEM' });
    expect(verifyCa.rejectUnauthorized).toBeUndefined();
    expect(parseConnection({ url: url('?sslmode=verify-full') }).client.ssl).toEqual({});
    expect(parseConnection({ url: url('?sslmode=verify-full'), ca: 'PEM' }).client.ssl).toEqual({ ca: 'PEM' });
  });

  it('reads the CA from caFile or from sslrootcert in the URL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcr-pg-ca-'));
    try {
      const file = join(dir, 'ca.pem');
      writeFileSync(file, 'PEM FROM FILE');
      expect(parseConnection({ url: url('?sslmode=verify-full'), caFile: file }).client.ssl).toEqual({ ca: 'PEM FROM FILE' });
      expect(parseConnection({ url: url(`?sslmode=verify-full&sslrootcert=${encodeURIComponent(file)}`) }).client.ssl).toEqual({
        ca: 'PEM FROM FILE',
      });
      expect(() => parseConnection({ url: url('?sslmode=verify-full'), caFile: join(dir, 'missing.pem') })).toThrow(
        /Could not read the database CA file .*missing\.pem: ENOENT/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['not a URL', 'does not parse'],
    ['mysql://u:p@h/db', 'must start with postgres:// or postgresql://'],
    ['postgres://u:p@h', 'must name one database'],
    [url('?sslmode=prefer'), 'sslmode=prefer is not supported'],
    [url('?sslmode=allow'), 'sslmode=allow is not supported'],
    [url('?sslmode=no-verify'), 'sslmode=no-verify is not an sslmode'],
    [url('?sslmode=verify-ca'), 'sslmode=verify-ca for db.example.com:6543/dcr needs the CA'],
    [url('?uselibpqcompat=true'), 'the parameter "uselibpqcompat", which the PostgreSQL store does not support'],
  ])('refuses %s, saying what to do', (text, message) => {
    expect(() => parseConnection({ url: text })).toThrow(message);
  });

  it('refuses a CA without TLS, and a CA given twice', () => {
    expect(() => parseConnection({ url: url(), ca: 'PEM' })).toThrow('add sslmode=verify-full');
    expect(() => parseConnection({ url: url('?sslmode=verify-full'), ca: 'PEM', caFile: '/ca.pem' })).toThrow('one way only');
  });

  it('never puts the password in an error', () => {
    const attempts = [
      `postgres://u:${PASSWORD} with space@h/db`,
      `http://u:${encodeURIComponent(PASSWORD)}@h/db`,
      url('?sslmode=prefer'),
      url('?x=1'),
    ];
    for (const text of attempts) {
      expect(() => parseConnection({ url: text })).toThrow();
      try {
        parseConnection({ url: text });
      } catch (error) {
        expect((error as Error).message).not.toContain(PASSWORD);
        expect((error as Error).message).not.toContain(encodeURIComponent(PASSWORD));
      }
    }
  });
});

/** Whether the one session that serves the driver's queries is encrypted, as the server sees it. */
async function encrypted(driver: StoreDriver): Promise<boolean> {
  await driver.set('probe', 'x');
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    const result = await client.query<{ ssl: boolean }>(
      `SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'tls-probe'`,
    );
    expect(result.rows).toHaveLength(1);
    return (result.rows[0] as { ssl: boolean }).ssl;
  } finally {
    await client.end();
  }
}

describe('TLS to the embedded server (its certificate is for localhost, signed by a test CA)', () => {
  const ca = inject('postgres').tlsCa;
  let drivers: StoreDriver[] = [];
  afterEach(async () => {
    await Promise.all(drivers.map((driver) => driver.close()));
    drivers = [];
  });

  function tlsUrl(host: string, sslmode: string): string {
    const parsed = new URL(databaseUrl());
    parsed.hostname = host;
    parsed.search = `?sslmode=${sslmode}&application_name=tls-probe`;
    return parsed.toString();
  }
  function open(host: string, sslmode: string, withCa: boolean): StoreDriver {
    const driver = openDriver({ url: tlsUrl(host, sslmode), ...(withCa ? { ca } : {}), poolSize: 1 });
    drivers.push(driver);
    return driver;
  }

  it.skipIf(ca === undefined)('verify-full with the CA connects to localhost, encrypted', async () => {
    expect(await encrypted(open('localhost', 'verify-full', true))).toBe(true);
  });

  it.skipIf(ca === undefined)('verify-full refuses a certificate that does not name the host (127.0.0.1)', async () => {
    await expect(open('127.0.0.1', 'verify-full', true).check()).rejects.toThrow(
      /is unreachable: .*(IP: 127\.0\.0\.1 is not in the cert's list|Hostname\/IP does not match)/,
    );
  });

  it.skipIf(ca === undefined)('verify-full without the CA refuses the unknown issuer', async () => {
    await expect(open('localhost', 'verify-full', false).check()).rejects.toThrow(/is unreachable: .*(self-signed|unable to (get|verify))/);
  });

  it.skipIf(ca === undefined)('verify-ca with the CA accepts the certificate whatever the host name', async () => {
    expect(await encrypted(open('127.0.0.1', 'verify-ca', true))).toBe(true);
  });

  it.skipIf(ca === undefined)('require encrypts without verifying', async () => {
    expect(await encrypted(open('127.0.0.1', 'require', false))).toBe(true);
  });

  it.skipIf(ca === undefined)('disable connects in the clear', async () => {
    expect(await encrypted(open('127.0.0.1', 'disable', false))).toBe(false);
  });
});
