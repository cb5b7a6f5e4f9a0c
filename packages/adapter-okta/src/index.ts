export { createOktaAdapter, type OktaAdapterOptions } from './adapter.js';
export { dcrBridgeAdapter } from './options.js';
