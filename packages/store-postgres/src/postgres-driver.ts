import { prefixUpperBound, type Logger, type StoreDriver } from '@dcr-bridge/core';
import pg from 'pg';
import { maskPassword, parseConnection, type ConnectionSettings } from './connection.js';
import { lockKey, migrate, storeNames, StoreSetupError } from './schema.js';

export interface PostgresDriverOptions extends ConnectionSettings {
  /** The schema of the store's tables; created when missing. Default `public`. */
  schema?: string;
  /** The records table; its migrations are kept in `<table>_migrations`. Default `dcr_bridge_records`. */
  table?: string;
  /** Connections for get, set, delete, list and check. Default 10. */
  poolSize?: number;
  /** Connections that hold `exclusive` locks: at most this many locks held or awaited at once per process. Default: poolSize. */
  lockPoolSize?: number;
  /** The server-side limit of one statement. Default 5 000 ms. */
  statementTimeoutMs?: number;
  /** The limit of opening a connection, or of waiting for a free one. Default 5 000 ms. */
  connectTimeoutMs?: number;
  /** How long `exclusive` waits for a lock another process holds before it throws. Default 30 000 ms. */
  lockTimeoutMs?: number;
  /** The limit of the readiness query of `check()`. Default 2 000 ms. */
  checkTimeoutMs?: number;
  /** For warnings (a connection lost, a lock lost while held, no TLS to a remote host). */
  logger?: Logger;
}

/** SQLSTATE lock_not_available: lock_timeout expired. */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * A StoreDriver on a PostgreSQL table, for bridges that run as several processes (replicas, serverless)
 * sharing one store. Values are opaque strings (core's encrypted store puts JWEs here). The table is
 * created and migrated on first use; `exclusive` takes a session advisory lock on a connection of its own.
 */
export function createPostgresDriver(options: PostgresDriverOptions): StoreDriver {
  const connection = parseConnection(options);
  const names = storeNames(options.schema ?? 'public', options.table ?? 'dcr_bridge_records');
  const { logger } = options;
  const poolSize = positive('poolSize', options.poolSize ?? 10);
  const statementTimeoutMs = positive('statementTimeoutMs', options.statementTimeoutMs ?? 5_000);
  const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs ?? 5_000);
  const lockTimeoutMs = positive('lockTimeoutMs', options.lockTimeoutMs ?? 30_000);
  const checkTimeoutMs = positive('checkTimeoutMs', options.checkTimeoutMs ?? 2_000);
  const lockPoolSize = positive('lockPoolSize', options.lockPoolSize ?? poolSize);
  const { target } = connection;

  if (!connection.tls && !isLoopback(connection.host)) {
    logger?.warn('The state store database is reached without TLS: add sslmode=verify-full (or require) to its URL.', { database: target });
  }

  const pool = new pg.Pool({
    ...connection.client,
    max: poolSize,
    connectionTimeoutMillis: connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
    keepAlive: true,
  });
  // Lock holders get their own connections: a holder's work uses `pool`, so holders drawing from it too
  // could take every connection and wait for one forever. Waiting for a free lock connection counts
  // against the lock wait; lock_timeout bounds the wait for the lock itself on the server.
  const lockPool = new pg.Pool({
    ...connection.client,
    max: lockPoolSize,
    connectionTimeoutMillis: lockTimeoutMs,
    lock_timeout: lockTimeoutMs,
    statement_timeout: lockTimeoutMs + statementTimeoutMs,
    keepAlive: true,
  });
  for (const each of [pool, lockPool]) {
    // An idle connection that fails (a server restart, a terminated backend) is dropped and replaced.
    each.on('error', (error) =>
      logger?.warn('A pooled connection to the state store database failed; the pool replaces it.', {
        database: target,
        error: describe(error),
      }),
    );
  }

  function describe(error: unknown): string {
    const messages = error instanceof AggregateError ? error.errors.map((each: unknown) => messageOf(each)) : [messageOf(error)];
    const code = (error as { code?: unknown }).code;
    return maskPassword(messages.join('; '), connection.password) + (typeof code === 'string' ? ` (${code})` : '');
  }

  function failure(what: string, error: unknown): Error {
    return new Error(`The state store database ${target} ${what}: ${describe(error)}.`);
  }

  async function run<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      await ready();
      return await work();
    } catch (error) {
      throw failure(what, error);
    }
  }

  let migrated: Promise<void> | undefined;
  function ready(): Promise<void> {
    migrated ??= migrate(pool, names, logger).catch((error: unknown) => {
      migrated = undefined; // the next call tries again, e.g. once the database is up
      throw error;
    });
    return migrated;
  }

  let closed: Promise<void> | undefined;

  return {
    get: (key) =>
      run('could not read a record', async () => {
        const result = await pool.query<{ value: string }>(`SELECT value FROM ${names.records} WHERE key = $1`, [key]);
        return result.rows[0]?.value;
      }),
    set: (key, value) =>
      run('could not write a record', async () => {
        await pool.query(
          `INSERT INTO ${names.records} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()`,
          [key, value],
        );
      }),
    delete: (key) =>
      run('could not delete a record', async () => {
        await pool.query(`DELETE FROM ${names.records} WHERE key = $1`, [key]);
      }),
    list: (prefix) =>
      run('could not list records', async () => {
        // A key range rather than LIKE: no metacharacters to escape, and the primary key's index serves it.
        // The key column is COLLATE "C", so the range and the order are byte order, as in SQLite.
        const upper = prefixUpperBound(prefix);
        const result =
          upper === undefined
            ? await pool.query<{ key: string; value: string }>(`SELECT key, value FROM ${names.records} WHERE key >= $1 ORDER BY key`, [
                prefix,
              ])
            : await pool.query<{ key: string; value: string }>(
                `SELECT key, value FROM ${names.records} WHERE key >= $1 AND key < $2 ORDER BY key`,
                [prefix, upper],
              );
        return result.rows.map((row): [string, string] => [row.key, row.value]);
      }),
    async check() {
      try {
        await withinTime(
          (async () => {
            await ready();
            await pool.query('SELECT 1');
          })(),
          checkTimeoutMs,
        );
      } catch (error) {
        // A DatabaseError is the server's answer (SQLSTATE); anything else but a setup problem is the way to it.
        throw new Error(
          error instanceof pg.DatabaseError || error instanceof StoreSetupError
            ? `The state store database ${target} cannot serve the bridge: ${describe(error)}. Check the URL's database, user and password, and the role's rights on the store's schema.`
            : `The state store database ${target} is unreachable: ${describe(error)}. Check that PostgreSQL runs there and that the URL's host and port are right.`,
        );
      }
    },
    async exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
      const key = lockKey(names, 'exclusive', name);
      let client: pg.PoolClient;
      try {
        await ready();
        client = await lockPool.connect();
      } catch (error) {
        throw failure(`could not lock "${name}"`, error);
      }
      // A held connection that drops emits 'error' outside any query; the lock is gone with it (see below).
      let lostWith: unknown;
      const onLost = (error: unknown) => (lostWith = error);
      client.on('error', onLost);
      try {
        await client.query('SELECT pg_advisory_lock($1::bigint)', [key]);
      } catch (error) {
        client.off('error', onLost);
        const timedOut = (error as { code?: unknown }).code === LOCK_NOT_AVAILABLE;
        client.release(!timedOut);
        if (timedOut) {
          throw new Error(
            `Could not lock "${name}" in the state store database ${target} within ${lockTimeoutMs} ms: another holder (a replica, or this process) kept it all that time. ` +
              "Retry; if it lasts, look for a stuck replica (pg_locks where locktype = 'advisory').",
          );
        }
        throw failure(`could not lock "${name}"`, error);
      }
      try {
        return await work();
      } finally {
        await unlock(client, key, name, onLost, () => lostWith);
      }
    },
    close() {
      closed ??= Promise.all([pool.end(), lockPool.end()]).then(() => undefined);
      return closed;
    },
  };

  async function unlock(
    client: pg.PoolClient,
    key: string,
    name: string,
    onLost: (error: unknown) => void,
    lostWith: () => unknown,
  ): Promise<void> {
    try {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
      client.off('error', onLost);
      client.release();
    } catch (error) {
      client.off('error', onLost);
      // Destroying the connection ends the session, and the server releases whatever it still held.
      client.release(true);
      logger?.warn(
        'The connection holding a state store lock was lost while its work ran: another process may have run at the same time.',
        {
          database: target,
          lock: name,
          error: describe(lostWith() ?? error),
        },
      );
    }
  }
}

/** `work`, or a rejection once `ms` have passed; a late failure of `work` is then ignored. */
function withinTime<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`The PostgreSQL store option ${name} must be a positive whole number, not ${value}.`);
  return value;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.') || host.startsWith('/');
}
