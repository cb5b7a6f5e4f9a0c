export { createSqliteDriver, type SqliteDriverOptions } from './sqlite-driver.js';
