import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { StoreDriver } from '@dcr-bridge/core';
import { createPostgresDriver, type PostgresDriverOptions } from '../src/index.js';

/** The test database's URL (see postgres-server.ts). */
export function databaseUrl(): string {
  return inject('postgres').url;
}

/** A schema name no other test uses: every test gets an empty store in the one test database. */
export function freshSchema(): string {
  return `test_${randomBytes(6).toString('hex')}`;
}

/** A driver on the test database; each call without a schema gets a fresh, empty store. */
export function openDriver(options: Partial<PostgresDriverOptions> = {}): StoreDriver {
  return createPostgresDriver({ url: databaseUrl(), schema: freshSchema(), ...options });
}

/** The URL with its password replaced. */
export function withPassword(url: string, password: string): string {
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

export function passwordOf(url: string): string {
  return decodeURIComponent(new URL(url).password);
}
