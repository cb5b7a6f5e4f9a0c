export { createRfc7591Adapter, type Rfc7591AdapterOptions } from './adapter.js';
export { dcrBridgeAdapter } from './module.js';
