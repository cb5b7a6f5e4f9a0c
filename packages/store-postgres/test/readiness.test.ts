import { createServer } from 'node:net';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createCapturingLogger } from '@dcr-bridge/conformance';
import type { StoreDriver } from '@dcr-bridge/core';
import { createPostgresDriver } from '../src/index.js';
import { databaseUrl, freshSchema, openDriver, passwordOf, withPassword } from './helpers.js';

const PASSWORD = 'n0t-the-real/p@ssword';
let drivers: StoreDriver[] = [];
afterEach(async () => {
  await Promise.all(drivers.map((driver) => driver.close()));
  drivers = [];
});

function track(driver: StoreDriver): StoreDriver {
  drivers.push(driver);
  return driver;
}

/** A port on 127.0.0.1 where nothing listens: what a stopped server looks like. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function failure(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('readiness and errors', () => {
  it('passes check() when the database serves', async () => {
    await expect(track(openDriver()).check()).resolves.toBeUndefined();
  });

  it('says the database is unreachable, with host:port/database and without the password, when no server runs there', async () => {
    const port = await closedPort();
    const driver = track(
      createPostgresDriver({ url: `postgres://bridge:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/dcr`, connectTimeoutMs: 1_000 }),
    );
    const error = await failure(driver.check());
    expect(error.message).toMatch(new RegExp(`^The state store database 127\\.0\\.0\\.1:${port}/dcr is unreachable: .*ECONNREFUSED`));
    expect(error.message).toContain("Check that PostgreSQL runs there and that the URL's host and port are right.");
    expect(error.message).not.toContain(PASSWORD);
    const readError = await failure(driver.get('client:a'));
    expect(readError.message).toMatch(
      new RegExp(`^The state store database 127\\.0\\.0\\.1:${port}/dcr could not read a record: .*ECONNREFUSED`),
    );
    expect(readError.message).not.toContain(PASSWORD);
  });

  it('bounds check() by checkTimeoutMs when the server never answers', async () => {
    // A listener that accepts and never speaks: a hung server or a black-holed route.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const driver = track(
        createPostgresDriver({
          url: `postgres://bridge:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/dcr`,
          checkTimeoutMs: 300,
          connectTimeoutMs: 500,
        }),
      );
      await expect(driver.check()).rejects.toThrow(
        `The state store database 127.0.0.1:${port}/dcr is unreachable: no answer within 300 ms`,
      );
    } finally {
      silent.close();
    }
  });

  it('reports a wrong password without echoing it', async () => {
    const driver = track(openDriver({ url: withPassword(databaseUrl(), PASSWORD) }));
    const error = await failure(driver.check());
    const user = new URL(databaseUrl()).username;
    expect(error.message).toContain(
      `cannot serve the bridge: password authentication failed for user "${user}" (28P01). Check the URL's database, user and password`,
    );
    expect(error.message).not.toContain(PASSWORD);
    expect(error.message).not.toContain(encodeURIComponent(PASSWORD));
    expect(error.message).not.toContain(passwordOf(databaseUrl()));
  });

  it('recovers after the server drops its connections, and logs it without the password', async () => {
    const logger = createCapturingLogger();
    // Its own application_name, so that only its connections are cut (other test files share the database).
    const name = `recover-${freshSchema()}`;
    const url = new URL(databaseUrl());
    url.searchParams.set('application_name', name);
    const driver = track(openDriver({ url: url.toString(), logger, poolSize: 2 }));
    await driver.set('client:a', 'before');
    const admin = new pg.Client({ connectionString: databaseUrl() });
    await admin.connect();
    try {
      const cut = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [name]);
      expect(cut.rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    await expect
      .poll(() => logger.lines.some((line) => line.msg.startsWith('A pooled connection to the state store database failed')))
      .toBe(true);
    await expect(driver.check()).resolves.toBeUndefined();
    expect(await driver.get('client:a')).toBe('before');
    expect(logger.text()).not.toContain(passwordOf(databaseUrl()));
  });

  it('warns when it reaches a remote host without TLS', () => {
    const logger = createCapturingLogger();
    track(createPostgresDriver({ url: 'postgres://u:p@db.example.com/dcr', logger, schema: freshSchema() }));
    track(createPostgresDriver({ url: 'postgres://u:p@127.0.0.1/dcr', logger, schema: freshSchema() }));
    expect(logger.lines).toEqual([
      expect.objectContaining({ level: 'warn', database: 'db.example.com/dcr', msg: expect.stringContaining('without TLS') }),
    ]);
  });

  it('refuses unusable options at once', () => {
    expect(() => openDriver({ poolSize: 0 })).toThrow('poolSize must be a positive whole number');
    expect(() => openDriver({ table: 'Records; DROP' })).toThrow('The table name "Records; DROP" is not usable');
    expect(() => openDriver({ schema: 'a'.repeat(64) })).toThrow('is not usable');
  });
});
