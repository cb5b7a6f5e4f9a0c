export { createOktaAdapter, type OktaAdapterOptions } from './adapter.js';
export { dcrBridgeAdapter } from './module.js';
