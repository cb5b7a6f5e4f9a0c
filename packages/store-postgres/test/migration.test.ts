import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreDriver } from '@dcr-bridge/core';
import { SCHEMA_VERSION } from '../src/schema.js';
import { databaseUrl, freshSchema, openDriver } from './helpers.js';

let drivers: StoreDriver[] = [];
afterEach(async () => {
  await Promise.all(drivers.map((driver) => driver.close()));
  drivers = [];
});

function open(...args: Parameters<typeof openDriver>): StoreDriver {
  const driver = openDriver(...args);
  drivers.push(driver);
  return driver;
}

async function query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

describe('schema and migrations', () => {
  it('creates the schema, the records table (key COLLATE "C") and the migrations table on first use', async () => {
    const schema = freshSchema();
    await open({ schema }).check();
    const columns = await query<{ column_name: string; data_type: string; collation_name: string | null; is_nullable: string }>(
      `SELECT column_name, data_type, collation_name, is_nullable FROM information_schema.columns
        WHERE table_schema = $1 AND table_name = 'dcr_bridge_records' ORDER BY ordinal_position`,
      [schema],
    );
    expect(columns).toEqual([
      { column_name: 'key', data_type: 'text', collation_name: 'C', is_nullable: 'NO' },
      { column_name: 'value', data_type: 'text', collation_name: null, is_nullable: 'NO' },
      { column_name: 'updated_at', data_type: 'timestamp with time zone', collation_name: null, is_nullable: 'NO' },
    ]);
    const migrations = await query<{ version: number }>(`SELECT version FROM "${schema}".dcr_bridge_records_migrations ORDER BY version`);
    expect(migrations.map((row) => row.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it('migrates once when eight replicas start at the same time', async () => {
    const schema = freshSchema();
    const replicas = Array.from({ length: 8 }, () => open({ schema, poolSize: 2 }));
    await Promise.all(replicas.map((replica, i) => replica.set(`client:${i}`, `from replica ${i}`)));
    const migrations = await query<{ version: number }>(`SELECT version FROM "${schema}".dcr_bridge_records_migrations`);
    expect(migrations).toHaveLength(SCHEMA_VERSION);
    expect(await replicas[0]?.list('client:')).toHaveLength(8);
  });

  it('reopens an existing store with its records, without migrating again', async () => {
    const schema = freshSchema();
    const first = open({ schema });
    await first.set('client:a', 'kept');
    await first.close();
    const [before] = await query<{ applied_at: Date }>(
      `SELECT max(applied_at) AS applied_at FROM "${schema}".dcr_bridge_records_migrations`,
    );
    const reopened = open({ schema });
    expect(await reopened.get('client:a')).toBe('kept');
    const [after] = await query<{ applied_at: Date; count: string }>(
      `SELECT max(applied_at) AS applied_at, count(*) FROM "${schema}".dcr_bridge_records_migrations`,
    );
    expect(after).toEqual({ applied_at: before?.applied_at, count: String(SCHEMA_VERSION) });
  });

  it('uses an existing schema without creating it, and a table name of its own', async () => {
    const schema = freshSchema();
    await query(`CREATE SCHEMA ${schema}`);
    const driver = open({ schema, table: 'bridge_state' });
    await driver.set('client:a', 'v');
    expect(await query(`SELECT key, value FROM "${schema}".bridge_state`)).toEqual([{ key: 'client:a', value: 'v' }]);
  });

  it('serves a role with DML rights only once the tables exist (no CREATE needed after the first start)', async () => {
    const schema = freshSchema();
    await open({ schema }).check();
    const role = `dml_${schema}`;
    const password = `pw-${schema}`;
    await query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    try {
      await query(`GRANT USAGE ON SCHEMA "${schema}" TO ${role}`);
      await query(`GRANT SELECT, INSERT, UPDATE, DELETE ON "${schema}".dcr_bridge_records TO ${role}`);
      await query(`GRANT SELECT ON "${schema}".dcr_bridge_records_migrations TO ${role}`);
      const url = new URL(databaseUrl());
      url.username = role;
      url.password = password;
      const limited = open({ url: url.toString(), schema });
      await expect(limited.check()).resolves.toBeUndefined();
      await limited.set('client:a', 'by the limited role');
      expect(await limited.exclusive?.('client:a', () => limited.get('client:a'))).toBe('by the limited role');
      await limited.close();
    } finally {
      await query(`DROP OWNED BY ${role}`);
      await query(`DROP ROLE ${role}`);
    }
  });

  it('refuses a database whose encoding is not UTF8', async () => {
    const database = `latin1_${freshSchema()}`;
    await query(`CREATE DATABASE ${database} ENCODING 'LATIN1' LOCALE 'C' TEMPLATE template0`);
    try {
      const url = new URL(databaseUrl());
      url.pathname = `/${database}`;
      const driver = open({ url: url.toString() });
      await expect(driver.check()).rejects.toThrow(
        `/${database} cannot serve the bridge: its encoding is LATIN1, and the store needs UTF8`,
      );
      await driver.close();
    } finally {
      await query(`DROP DATABASE ${database} WITH (FORCE)`);
    }
  });

  it('tries the migration again on the next call when the first attempt fails', async () => {
    const schema = freshSchema();
    // A table in the way with the records table's name: the migration fails until it is dropped.
    await query(`CREATE SCHEMA ${schema}`);
    await query(`CREATE VIEW "${schema}".dcr_bridge_records AS SELECT 1 AS x`);
    const driver = open({ schema });
    await expect(driver.check()).rejects.toThrow(/cannot serve the bridge: relation "dcr_bridge_records" already exists/);
    await query(`DROP VIEW "${schema}".dcr_bridge_records`);
    await expect(driver.check()).resolves.toBeUndefined();
    await driver.set('client:a', 'after the retry');
    expect(await driver.get('client:a')).toBe('after the retry');
  });

  it('stores the encrypted records and the journal in one table, updated_at refreshed on overwrite', async () => {
    const schema = freshSchema();
    const driver = open({ schema });
    await driver.set('client:a', 'one');
    const [first] = await query<{ updated_at: Date }>(`SELECT updated_at FROM "${schema}".dcr_bridge_records WHERE key = 'client:a'`);
    await driver.set('client:a', 'two');
    const [second] = await query<{ updated_at: Date; value: string }>(
      `SELECT updated_at, value FROM "${schema}".dcr_bridge_records WHERE key = 'client:a'`,
    );
    expect(second?.value).toBe('two');
    expect(second?.updated_at.getTime()).toBeGreaterThanOrEqual(first?.updated_at.getTime() ?? Infinity);
  });
});
