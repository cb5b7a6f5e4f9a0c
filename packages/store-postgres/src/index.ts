export { createPostgresDriver, type PostgresDriverOptions } from './postgres-driver.js';
