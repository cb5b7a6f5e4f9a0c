import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createCapturingLogger } from '@dcr-bridge/conformance';
import type { StoreDriver } from '@dcr-bridge/core';
import { lockKey, storeNames } from '../src/schema.js';
import { databaseUrl, freshSchema, openDriver, passwordOf } from './helpers.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
let drivers: StoreDriver[] = [];
let children: ChildProcessWithoutNullStreams[] = [];

afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  children = [];
  // Taken out first, so that a failed test's drivers are not closed again by the next test.
  const open = drivers;
  drivers = [];
  await Promise.all(open.map((driver) => driver.close()));
});

function open(...args: Parameters<typeof openDriver>): StoreDriver & Required<Pick<StoreDriver, 'exclusive'>> {
  const driver = openDriver(...args);
  drivers.push(driver);
  if (!driver.exclusive) throw new Error('the PostgreSQL driver has exclusive');
  return driver as StoreDriver & Required<Pick<StoreDriver, 'exclusive'>>;
}

/** The backend that holds the advisory lock of `name` in `schema`'s store, from pg_locks. */
async function holderPid(schema: string, name: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    const result = await client.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
      [lockKey(storeNames(schema, 'dcr_bridge_records'), 'exclusive', name)],
    );
    return result.rows[0]?.pid;
  } finally {
    await client.end();
  }
}

async function terminate(pid: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    await client.query('SELECT pg_terminate_backend($1)', [pid]);
  } finally {
    await client.end();
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((settle) => (resolve = settle));
  return { promise, resolve };
}

describe('exclusive on PostgreSQL', () => {
  it('holds a session advisory lock on a connection of its own while the work runs, and none after', async () => {
    const schema = freshSchema();
    const driver = open({ schema });
    const during = await driver.exclusive('client:a', async () => {
      await driver.set('client:a', 'written while holding');
      return holderPid(schema, 'client:a');
    });
    expect(during).toEqual(expect.any(Number));
    expect(await holderPid(schema, 'client:a')).toBeUndefined();
  });

  it('gives up waiting after lockTimeoutMs with an error that names the lock', async () => {
    const schema = freshSchema();
    const holder = open({ schema });
    const waiter = open({ schema, lockTimeoutMs: 300 });
    const release = deferred();
    const started = deferred();
    const held = holder.exclusive('client:busy', async () => {
      started.resolve();
      await release.promise;
    });
    await started.promise;
    const work = { ran: false };
    try {
      await expect(waiter.exclusive('client:busy', async () => (work.ran = true))).rejects.toThrow(
        /^Could not lock "client:busy" in the state store database 127\.0\.0\.1:\d+\/\w+ within 300 ms: another holder \(a replica, or this process\) kept it all that time\./,
      );
      expect(work.ran).toBe(false);
    } finally {
      release.resolve();
      await held;
    }
    expect(await waiter.exclusive('client:busy', async () => 'free again')).toBe('free again');
  });

  it("frees the lock when the holder's connection is cut (pg_terminate_backend), and warns the holder", async () => {
    const schema = freshSchema();
    const logger = createCapturingLogger();
    const holder = open({ schema, logger });
    const other = open({ schema });
    const release = deferred();
    const started = deferred();
    const held = holder.exclusive('client:cut', async () => {
      started.resolve();
      await release.promise;
      return 'holder finished';
    });
    await started.promise;
    const pid = await holderPid(schema, 'client:cut');
    expect(pid).toEqual(expect.any(Number));
    await terminate(pid as number);
    expect(await other.exclusive('client:cut', async () => 'taken over')).toBe('taken over');
    release.resolve();
    expect(await held).toBe('holder finished');
    const warning = logger.lines.find((line) => line.msg.startsWith('The connection holding a state store lock was lost'));
    expect(warning).toMatchObject({ level: 'warn', lock: 'client:cut', error: expect.stringContaining('terminated') });
    expect(logger.text()).not.toContain(passwordOf(databaseUrl()));
    // The holder's driver still serves, on a fresh lock connection.
    expect(await holder.exclusive('client:cut', async () => 'again')).toBe('again');
  });

  it('frees the lock when the process holding it is killed (SIGKILL)', async () => {
    const schema = freshSchema();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/hold-lock.ts', databaseUrl(), schema, 'client:killed'], {
      cwd: packageDir,
    });
    children.push(child);
    const output = await new Promise<string>((resolve) => {
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('holding\n')) resolve(text);
      });
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.on('exit', () => resolve(text));
    });
    expect(output).toBe('holding\n');
    expect(await holderPid(schema, 'client:killed')).toEqual(expect.any(Number));

    const waiter = open({ schema, lockTimeoutMs: 300 });
    await expect(waiter.exclusive('client:killed', async () => 'too early')).rejects.toThrow('Could not lock "client:killed"');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const patient = open({ schema });
    expect(await patient.exclusive('client:killed', async () => 'after the kill')).toBe('after the kill');
  });

  it('keeps locks of two stores (two tables) on one database apart', async () => {
    const schema = freshSchema();
    const first = open({ schema, table: 'records_one' });
    const second = open({ schema, table: 'records_two', lockTimeoutMs: 300 });
    const release = deferred();
    const started = deferred();
    const held = first.exclusive('client:a', async () => {
      started.resolve();
      await release.promise;
    });
    await started.promise;
    expect(await second.exclusive('client:a', async () => 'not blocked')).toBe('not blocked');
    release.resolve();
    await held;
  });
});
