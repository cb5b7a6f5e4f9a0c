import { createHash } from 'node:crypto';
import type { Logger } from '@dcr-bridge/core';
import type { Pool } from 'pg';

/** The names of the store's objects in the database, quoted for SQL. */
export interface StoreNames {
  schema: string;
  table: string;
  /** `"schema"."table"`. */
  records: string;
  /** `"schema"."table_migrations"`. */
  migrations: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function storeNames(schema: string, table: string): StoreNames {
  for (const [what, name] of [
    ['schema', schema],
    ['table', table],
  ] as const) {
    // Plain lower-case identifiers only: no quoting surprises, and "<table>_migrations" stays within 63 bytes.
    if (!IDENTIFIER.test(name) || (what === 'table' && name.length > 52)) {
      throw new Error(
        `The ${what} name "${name}" is not usable: use lower-case letters, digits and _ (starting with a letter or _, at most ${what === 'table' ? 52 : 63} characters).`,
      );
    }
  }
  return { schema, table, records: `"${schema}"."${table}"`, migrations: `"${schema}"."${table}_migrations"` };
}

/**
 * A 64-bit advisory lock key for `name`, as a decimal string for a `bigint` parameter. Advisory locks are
 * shared by the whole database, so the key is derived from the store's table as well: two bridges with
 * different tables on one database never block each other. SHA-256 rather than the server's internal
 * hash functions, so that the key is the same on every PostgreSQL version.
 */
export function lockKey(names: StoreNames, purpose: 'migration' | 'exclusive', name = ''): string {
  const digest = createHash('sha256').update(`dcr-bridge\0${names.schema}.${names.table}\0${purpose}\0${name}`).digest();
  return digest.readBigInt64BE(0).toString();
}

/** The database answers but cannot hold the store as it is (as opposed to a database that cannot be reached). */
export class StoreSetupError extends Error {
  override readonly name = 'StoreSetupError';
}

interface Migration {
  version: number;
  description: string;
  sql: (names: StoreNames) => string;
}

/** Append only: a released migration is never edited, a change is a new version. */
const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'records: key, value, updated_at',
    sql: (names) => `CREATE TABLE ${names.records} (
      key text COLLATE "C" PRIMARY KEY,
      value text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the store's tables to SCHEMA_VERSION, in one transaction under a transaction-level advisory lock,
 * so that replicas starting at once apply each migration exactly once and the others wait, then see it done.
 */
export async function migrate(pool: Pool, names: StoreNames, logger: Logger | undefined): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey(names, 'migration')]);
    const found = await client.query<{ encoding: string; schema_exists: boolean }>(
      `SELECT current_setting('server_encoding') AS encoding, EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema_exists`,
      [names.schema],
    );
    const { encoding, schema_exists: schemaExists } = found.rows[0] as { encoding: string; schema_exists: boolean };
    if (encoding !== 'UTF8') {
      throw new StoreSetupError(
        `its encoding is ${encoding}, and the store needs UTF8 (values may hold any character): use a database created with ENCODING 'UTF8'`,
      );
    }
    // Checked first, so that a role without the CREATE privilege on the database can use an existing schema.
    if (!schemaExists) await client.query(`CREATE SCHEMA "${names.schema}"`);
    // Looked up rather than CREATE TABLE IF NOT EXISTS, which needs the CREATE privilege even when the table exists.
    const present = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [names.migrations]);
    if (present.rows[0]?.present !== true) {
      await client.query(`CREATE TABLE ${names.migrations} (
        version integer PRIMARY KEY,
        description text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    }
    const applied = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${names.migrations}`);
    const current = applied.rows[0]?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      logger?.warn('The PostgreSQL store was migrated by a newer version of @dcr-bridge/store-postgres; this replica uses it as it is.', {
        table: `${names.schema}.${names.table}`,
        schemaVersion: current,
        knownVersion: SCHEMA_VERSION,
      });
    }
    for (const migration of MIGRATIONS.filter((candidate) => candidate.version > current)) {
      await client.query(migration.sql(names));
      await client.query(`INSERT INTO ${names.migrations} (version, description) VALUES ($1, $2)`, [
        migration.version,
        migration.description,
      ]);
      logger?.info('Migrated the PostgreSQL store.', { table: `${names.schema}.${names.table}`, schemaVersion: migration.version });
    }
    await client.query('COMMIT');
    client.release();
  } catch (error) {
    // Destroying the connection ends the transaction (rolled back) and its lock, whatever state it is in.
    client.release(true);
    throw error;
  }
}
