export { createZitadelAdapter, type ZitadelAdapterOptions } from './adapter.js';
export { dcrBridgeAdapter } from './module.js';
