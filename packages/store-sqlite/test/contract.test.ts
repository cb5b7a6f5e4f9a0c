import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runStoreDriverContract } from '@dcr-bridge/conformance';
import { createSqliteDriver } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dcr-sqlite-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let stores = 0;
// One process per file: no second driver on a store, and no exclusive (the contract skips those tests).
runStoreDriverContract('SQLite', async () => createSqliteDriver({ path: join(dir, `store-${++stores}.sqlite`) }));
