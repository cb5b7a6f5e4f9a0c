export { createSqliteDriver, type SqliteDriverOptions } from './sqlite-driver.js';
export { claimStoreFile } from './store-owner.js';
