export { createAuthentikAdapter, type AuthentikAdapterOptions } from './adapter.js';
export { dcrBridgeAdapter } from './module.js';
